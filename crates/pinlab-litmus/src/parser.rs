use crate::{ast, Diags, Source};
pub fn parse(_s: &Source) -> Result<ast::Scenario, Diags> { todo!() }
