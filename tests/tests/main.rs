#![allow(clippy::unwrap_used, clippy::expect_used)]

//! End-to-end tests of edp: one binary (each test binary links the world), one module per area.

mod aws_pipeline;
mod deploy_contract;
mod e2e_local;
mod terraform_moto;
