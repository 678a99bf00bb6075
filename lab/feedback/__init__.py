"""Customer reviews: the course's lab 2 feedback web service."""
