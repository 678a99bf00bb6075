"""The fruit catalog: a Django app with the course lab's REST contract."""
