"""Local stand-in for the course lab machine: catalog service, mail server, sample data."""
