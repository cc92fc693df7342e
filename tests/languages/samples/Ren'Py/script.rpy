label start:
    "Hello, world."
    return
