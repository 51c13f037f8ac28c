//! The HTTP surface end to end: the real server on port 0 against its own database.

mod accounts;
mod admin;
mod errors;
mod galleries;
mod health;
mod heif;
mod helpers;
mod images;
mod import;
mod instances;
mod links;
mod location;
mod operations;
mod plans;
mod privileges;
mod removals;
mod subscriptions;
mod thumbnails;
mod tokens;
mod traces;
mod uploads;
mod web;
