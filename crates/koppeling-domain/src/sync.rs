//! The sync use case: for one claimed invoice, ensure the relatie, then book it exactly once.
