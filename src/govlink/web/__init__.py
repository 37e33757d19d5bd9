"""HTTP plumbing shared by every domain's routes and pages: dependencies, templates, errors."""
