"""The web portal's shell: the home page, the shared layout, static assets and translations."""
