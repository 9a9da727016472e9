"""The application's services: the units of work that pages, the API, the CLI and jobs share."""
