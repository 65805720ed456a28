//! Portable SQL over sqlx 0.7's `Any` driver, for SQLite and PostgreSQL alike.
//!
//! The schema keeps to types both backends share: times are `BIGINT` Unix seconds, ids `TEXT`,
//! placeholders `$1…` (SQLite reads `$N` as the N-th argument, so one may repeat). Two quirks
//! of sqlx 0.7.4's `Any` driver are worked around here:
//!
//! - A bound `NULL` reaches PostgreSQL as an `INT4`, which a `TEXT` column refuses: [`Args`]
//!   writes absent values as a literal `NULL` into the statement instead of binding them.
//! - `Option<T>` cannot decode a `NULL` (`Any` values never report `is_null()`): read nullable
//!   columns with [`get_opt`].
//!
//! ```
//! use idunox_keys_sqlx::portable::Args;
//! let mut a = Args::new();
//! let values = [a.text("acme"), a.opt_text(None::<String>), a.int(7)];
//! assert_eq!(values.join(", "), "$1, NULL, $2");
//! let _query = a.query("INSERT INTO t (a, b, c) VALUES ($1, NULL, $2)");
//! ```

use sqlx::Any;
use sqlx::any::{AnyArguments, AnyRow};
use sqlx::query::Query;

/// A value bound to a statement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Arg {
    /// `TEXT`.
    Text(String),
    /// `BIGINT`.
    Int(i64),
}

/// The argument list of a statement: numbers its `$N` placeholders and writes `NULL` literally
/// for absent values (see the [module docs](self)).
#[derive(Default, Debug, Clone)]
pub struct Args {
    values: Vec<Arg>,
}

impl Args {
    /// No arguments yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many values are bound.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether none is bound.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Bind `v`; returns its placeholder.
    pub fn push(&mut self, v: Arg) -> String {
        self.values.push(v);
        format!("${}", self.values.len())
    }

    /// Bind a text value; returns its placeholder.
    pub fn text(&mut self, s: impl Into<String>) -> String {
        self.push(Arg::Text(s.into()))
    }

    /// Bind an integer; returns its placeholder.
    pub fn int(&mut self, i: i64) -> String {
        self.push(Arg::Int(i))
    }

    /// Bind a text value, or write `NULL`.
    pub fn opt_text(&mut self, s: Option<impl Into<String>>) -> String {
        match s {
            Some(s) => self.text(s),
            None => "NULL".to_owned(),
        }
    }

    /// Bind an integer, or write `NULL`.
    pub fn opt_int(&mut self, i: Option<i64>) -> String {
        match i {
            Some(i) => self.int(i),
            None => "NULL".to_owned(),
        }
    }

    /// A query over `sql` with every value bound, in order.
    pub fn query(self, sql: &str) -> Query<'_, Any, AnyArguments<'_>> {
        let mut q = sqlx::query(sql);
        for v in self.values {
            q = match v {
                Arg::Text(s) => q.bind(s),
                Arg::Int(i) => q.bind(i),
            };
        }
        q
    }
}

/// A nullable column: `Ok(None)` for `NULL`. sqlx 0.7.4's `Any` values never report
/// `is_null()`, so `Option<T>` fails to decode a `NULL`; the type info's name does say `NULL`.
///
/// # Errors
/// When the column is missing or its value does not decode as `T`.
pub fn get_opt<'r, T>(row: &'r AnyRow, col: &str) -> Result<Option<T>, sqlx::Error>
where
    T: sqlx::Decode<'r, Any> + sqlx::Type<Any>,
{
    use sqlx::{Row, TypeInfo, ValueRef};
    let raw = row.try_get_raw(col)?;
    if raw.is_null() || raw.type_info().name() == "NULL" {
        return Ok(None);
    }
    row.try_get(col).map(Some)
}
