fn main() {
	println('hello')
}
