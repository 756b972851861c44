//! Integration tests of the SnelStart sandbox over real HTTP (one test binary).

mod auth;
mod betalingen;
mod boekingen;
mod control;
mod couplings;
mod documenten;
mod faults;
mod helpers;
mod mutaties;
mod odata;
mod relaties;
