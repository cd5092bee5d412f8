//! The call model shared by the checker and the interpreter: the lifecycle of a call
//! (SPEC section 3) and the built-in variable table (SPEC section 4). One place each.

pub mod lifecycle;
pub mod variables;

pub use lifecycle::Trigger;
