//! `shuntscope formats`: the registry, and what each format needs from the user.

use crate::error::Result;
use crate::ingest::FORMATS;

pub fn run() -> Result<i32> {
    for f in FORMATS {
        println!("{:<24} {}", f.name, f.description);
    }
    Ok(0)
}
