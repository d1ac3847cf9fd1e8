//! The `drbook` executable: everything lives in the library; this only hands over the
//! arguments and exits with the code `drbook::run` decided.

fn main() {
    std::process::exit(drbook::run(std::env::args_os()));
}
