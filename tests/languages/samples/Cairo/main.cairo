fn main() {
    let x: felt252 = 1;
    println!("{}", x);
}
