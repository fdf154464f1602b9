//! `authzlab`: run scenarios, check plugins. A thin shell over [`authzlab::cli`].

fn main() -> std::process::ExitCode {
    authzlab::cli::main()
}
