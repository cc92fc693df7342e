fn main():
    print("Hello from opsmith")
