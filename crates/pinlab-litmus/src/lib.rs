//! The pinlab scenario language.
//!
//! A scenario (`.litmus` file) is lexed and parsed into an [`ast::Scenario`],
//! then compiled against the model into a [`pinlab_model::program::Program`].
//! Every bad input, at either stage, becomes a [`diag::Diags`] pointing at
//! `file:line:col`; nothing in this crate panics on user input.

pub mod ast;
pub mod compile;
pub mod diag;
mod lexer;
mod parser;

pub use compile::{compile, load};
pub use diag::{Diag, Diags, Source};

/// Parse a scenario's text into a syntax tree.
#[allow(clippy::result_large_err)] // `Diags` is built at most once per parse
pub fn parse(source: &Source) -> Result<ast::Scenario, Diags> {
    parser::parse(source)
}
