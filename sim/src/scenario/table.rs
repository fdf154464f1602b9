//! A TOML table where the scenario format wants one, and nothing else.
//!
//! serde's derived `Deserialize` for a struct accepts a sequence too, filling the fields in
//! order, so `cluster = [3, { validator = "x" }]` would silently mean `cucm_subscribers = 3`.
//! `Table<T>` asks the deserializer for a map only: anything else is "expected a table",
//! with the position of the value.

use std::fmt;
use std::marker::PhantomData;

use serde::de::value::MapAccessDeserializer;
use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};

/// `T`, read only from a table (`[name]` or `{ ... }`).
#[derive(Clone, Debug, Default)]
pub struct Table<T>(pub T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Table<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TableVisitor<T>(PhantomData<T>);

        impl<'de, T: Deserialize<'de>> Visitor<'de> for TableVisitor<T> {
            type Value = T;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a table")
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
                T::deserialize(MapAccessDeserializer::new(map))
            }
        }

        deserializer.deserialize_map(TableVisitor(PhantomData)).map(Table)
    }
}
