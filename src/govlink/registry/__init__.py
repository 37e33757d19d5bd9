"""Base registries of persons and enterprises, built by entity resolution across every department."""
