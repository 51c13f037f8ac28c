fn main() {
    // The migrations are embedded at compile time; rebuild when they change.
    println!("cargo:rerun-if-changed=../../migrations");
}
