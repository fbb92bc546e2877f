# The application opts in to wifidirect's pytest plugin: it provides the `wfd_sim` fixture.
pytest_plugins = ["wifidirect.testing"]
