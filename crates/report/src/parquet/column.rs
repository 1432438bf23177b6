//! One table column: its name, its Parquet type, and how to read its value from a report row.
//!
//! A table is a list of [`Column`]s. From that one list come both the Parquet schema (as message
//! type text, see [`message_type`]) and the leaf values written into each row group, so the two
//! cannot drift apart. Every column is written in one pass over the row group's rows, values
//! going to the encoder in batches of [`BATCH`] levels: the only memory that grows with a row
//! group is the encoder's own buffer of compressed pages.
//!
//! Lists use the standard three-level LIST layout (`<list> (LIST) { repeated group list {
//! required element } }`), which DuckDB, Spark and Arrow all read as native lists. Timestamps
//! are INT64 microseconds annotated `TIMESTAMP(MICROS, isAdjustedToUTC=true)`, read by DuckDB as
//! `TIMESTAMP WITH TIME ZONE` and by Spark as `TimestampType`, without casts.

use ::parquet::column::writer::{ColumnWriter, ColumnWriterImpl};
use ::parquet::data_type::{ByteArray, DataType};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::{DnsAnswer, Input, Report};

/// Levels (definition + repetition) sent to the encoder at once: big enough that the per-call
/// overhead vanishes, small enough that the staging buffers stay a few hundred KiB.
pub(super) const BATCH: usize = 8192;

/// What a column getter sees of one row.
#[derive(Clone, Copy)]
pub(super) struct Cell<'r, T> {
    /// Position of the report in the slice given to the writer.
    pub(super) report_index: usize,
    pub(super) report: &'r Report,
    /// The capture the row belongs to, when it belongs to exactly one.
    pub(super) capture: Option<&'r Input>,
    /// Position of the row in its report's vector (`findings[index]`, `inputs[index]`).
    pub(super) index: usize,
    pub(super) item: &'r T,
}

/// A list of integers as the model stores it.
#[derive(Clone, Copy)]
pub(super) enum Ints<'r> {
    U64(&'r [u64]),
    Usize(&'r [usize]),
}

type StrFn<T> = Box<dyn for<'r> Fn(Cell<'r, T>) -> Option<&'r str>>;
type IntFn<T, I> = Box<dyn for<'r> Fn(Cell<'r, T>) -> Option<I>>;
type StrListFn<T> = Box<dyn for<'r> Fn(Cell<'r, T>) -> Option<&'r [String]>>;
type IntListFn<T> = Box<dyn for<'r> Fn(Cell<'r, T>) -> Option<Ints<'r>>>;
type AnswersFn<T> = Box<dyn for<'r> Fn(Cell<'r, T>) -> &'r [DnsAnswer]>;

/// How a column's value is read, which also fixes its Parquet type.
pub(super) enum Get<T> {
    /// BYTE_ARRAY (STRING).
    Str(StrFn<T>),
    /// An RFC 3339 string of the report, written as INT64 TIMESTAMP(MICROS, UTC); a string that
    /// does not parse is written as null, so these columns are always nullable.
    Time(StrFn<T>),
    Int32(IntFn<T, i32>),
    Int64(IntFn<T, i64>),
    Bool(IntFn<T, bool>),
    /// LIST<STRING>; `None` is a null list (only in nullable columns).
    StrList(StrListFn<T>),
    /// LIST<INT64>.
    IntList(IntListFn<T>),
    /// LIST<STRUCT<name STRING, rrtype STRING, ttl INT64, data STRING>>, never null.
    Answers(AnswersFn<T>),
}

/// The fields of a DNS answer struct, in leaf order.
const ANSWER_FIELDS: [&str; 4] = ["name", "rrtype", "ttl", "data"];

/// One column of a table.
pub(super) struct Column<T> {
    pub(super) name: &'static str,
    pub(super) nullable: bool,
    pub(super) get: Get<T>,
}

// Constructors, one per type and nullability, so that the table definitions read as a list of
// `name: how to get it` lines.
impl<T: 'static> Column<T> {
    pub(super) fn text(
        name: &'static str,
        f: impl for<'r> Fn(Cell<'r, T>) -> &'r str + 'static,
    ) -> Self {
        Self::new(name, false, Get::Str(Box::new(move |c| Some(f(c)))))
    }

    pub(super) fn opt_text(
        name: &'static str,
        f: impl for<'r> Fn(Cell<'r, T>) -> Option<&'r str> + 'static,
    ) -> Self {
        Self::new(name, true, Get::Str(Box::new(f)))
    }

    pub(super) fn time(
        name: &'static str,
        f: impl for<'r> Fn(Cell<'r, T>) -> Option<&'r str> + 'static,
    ) -> Self {
        Self::new(name, true, Get::Time(Box::new(f)))
    }

    pub(super) fn int32(name: &'static str, f: impl Fn(Cell<'_, T>) -> i32 + 'static) -> Self {
        Self::new(name, false, Get::Int32(Box::new(move |c| Some(f(c)))))
    }

    pub(super) fn opt_int32(
        name: &'static str,
        f: impl Fn(Cell<'_, T>) -> Option<i32> + 'static,
    ) -> Self {
        Self::new(name, true, Get::Int32(Box::new(f)))
    }

    pub(super) fn int64(name: &'static str, f: impl Fn(Cell<'_, T>) -> i64 + 'static) -> Self {
        Self::new(name, false, Get::Int64(Box::new(move |c| Some(f(c)))))
    }

    pub(super) fn opt_int64(
        name: &'static str,
        f: impl Fn(Cell<'_, T>) -> Option<i64> + 'static,
    ) -> Self {
        Self::new(name, true, Get::Int64(Box::new(f)))
    }

    pub(super) fn boolean(name: &'static str, f: impl Fn(Cell<'_, T>) -> bool + 'static) -> Self {
        Self::new(name, false, Get::Bool(Box::new(move |c| Some(f(c)))))
    }

    pub(super) fn opt_boolean(
        name: &'static str,
        f: impl Fn(Cell<'_, T>) -> Option<bool> + 'static,
    ) -> Self {
        Self::new(name, true, Get::Bool(Box::new(f)))
    }

    pub(super) fn texts(
        name: &'static str,
        f: impl for<'r> Fn(Cell<'r, T>) -> &'r [String] + 'static,
    ) -> Self {
        Self::new(name, false, Get::StrList(Box::new(move |c| Some(f(c)))))
    }

    pub(super) fn opt_texts(
        name: &'static str,
        f: impl for<'r> Fn(Cell<'r, T>) -> Option<&'r [String]> + 'static,
    ) -> Self {
        Self::new(name, true, Get::StrList(Box::new(f)))
    }

    pub(super) fn ints(
        name: &'static str,
        f: impl for<'r> Fn(Cell<'r, T>) -> Ints<'r> + 'static,
    ) -> Self {
        Self::new(name, false, Get::IntList(Box::new(move |c| Some(f(c)))))
    }

    pub(super) fn answers(
        name: &'static str,
        f: impl for<'r> Fn(Cell<'r, T>) -> &'r [DnsAnswer] + 'static,
    ) -> Self {
        Self::new(name, false, Get::Answers(Box::new(f)))
    }

    fn new(name: &'static str, nullable: bool, get: Get<T>) -> Self {
        Self {
            name,
            nullable,
            get,
        }
    }
}

impl<T> Column<T> {
    /// Number of Parquet leaf columns this column is stored as.
    pub(super) fn leaves(&self) -> usize {
        match self.get {
            Get::Answers(_) => ANSWER_FIELDS.len(),
            _ => 1,
        }
    }

    /// The type as docs/parquet.md names it.
    #[cfg(test)]
    pub(super) fn doc_type(&self) -> &'static str {
        match self.get {
            Get::Str(_) => "STRING",
            Get::Time(_) => "TIMESTAMP",
            Get::Int32(_) => "INT32",
            Get::Int64(_) => "INT64",
            Get::Bool(_) => "BOOLEAN",
            Get::StrList(_) => "LIST<STRING>",
            Get::IntList(_) => "LIST<INT64>",
            Get::Answers(_) => "LIST<STRUCT>",
        }
    }

    /// The column in Parquet message-type syntax.
    fn schema(&self) -> String {
        let repetition = if self.nullable {
            "optional"
        } else {
            "required"
        };
        let name = self.name;
        let element = match self.get {
            Get::Str(_) => return format!("{repetition} binary {name} (STRING);"),
            Get::Time(_) => return format!("{repetition} int64 {name} (TIMESTAMP(MICROS,true));"),
            Get::Int32(_) => return format!("{repetition} int32 {name};"),
            Get::Int64(_) => return format!("{repetition} int64 {name};"),
            Get::Bool(_) => return format!("{repetition} boolean {name};"),
            Get::StrList(_) => "required binary element (STRING);".to_string(),
            Get::IntList(_) => "required int64 element;".to_string(),
            Get::Answers(_) => "required group element { required binary name (STRING); \
                 required binary rrtype (STRING); required int64 ttl; \
                 required binary data (STRING); }"
                .to_string(),
        };
        format!("{repetition} group {name} (LIST) {{ repeated group list {{ {element} }} }}")
    }

    /// Highest definition and repetition levels of the column's leaves.
    fn levels(&self) -> (i16, i16) {
        let optional = i16::from(self.nullable);
        match self.get {
            Get::StrList(_) | Get::IntList(_) | Get::Answers(_) => (optional + 1, 1),
            _ => (optional, 0),
        }
    }
}

/// A table's whole schema in Parquet message-type syntax.
pub(super) fn message_type<T>(table: &str, columns: &[Column<T>]) -> String {
    let mut text = format!("message {table} {{\n");
    for column in columns {
        text.push_str("  ");
        text.push_str(&column.schema());
        text.push('\n');
    }
    text.push('}');
    text
}

/// A leaf value before conversion to the encoder's physical type.
#[derive(Clone, Copy)]
enum Value<'r> {
    Str(&'r str),
    Int32(i32),
    Int64(i64),
    Bool(bool),
}

/// Why a leaf could not be written.
#[derive(Debug)]
pub(super) enum LeafError {
    Parquet(::parquet::errors::ParquetError),
    /// A required column had no value in a row.
    Missing,
    /// The encoder's physical type is not the column's: the schema text and the getter disagree.
    Type,
}

impl From<::parquet::errors::ParquetError> for LeafError {
    fn from(e: ::parquet::errors::ParquetError) -> Self {
        Self::Parquet(e)
    }
}

/// The rows of one row group and what is common to them.
pub(super) struct Rows<'a, T> {
    pub(super) report_index: usize,
    pub(super) report: &'a Report,
    pub(super) capture: Option<&'a Input>,
    pub(super) items: &'a [T],
    /// Indices into `items`.
    pub(super) rows: &'a [usize],
}

/// Writes leaf `part` of `column` for every row into the column writer.
pub(super) fn write_leaf<T>(
    writer: &mut ColumnWriter<'_>,
    column: &Column<T>,
    part: usize,
    rows: &Rows<'_, T>,
) -> Result<(), LeafError> {
    match writer {
        ColumnWriter::ByteArrayColumnWriter(w) => fill(w, column, part, rows, |v| match v {
            Value::Str(s) => Some(ByteArray::from(s)),
            _ => None,
        }),
        ColumnWriter::Int32ColumnWriter(w) => fill(w, column, part, rows, |v| match v {
            Value::Int32(x) => Some(x),
            _ => None,
        }),
        ColumnWriter::Int64ColumnWriter(w) => fill(w, column, part, rows, |v| match v {
            Value::Int64(x) => Some(x),
            _ => None,
        }),
        ColumnWriter::BoolColumnWriter(w) => fill(w, column, part, rows, |v| match v {
            Value::Bool(x) => Some(x),
            _ => None,
        }),
        _ => Err(LeafError::Type),
    }
}

/// Staged levels and values of one leaf, sent to the encoder at row boundaries.
struct Staged<V> {
    values: Vec<V>,
    defs: Vec<i16>,
    reps: Vec<i16>,
    max_def: i16,
    max_rep: i16,
}

impl<V> Staged<V> {
    fn flush<D: DataType<T = V>>(
        &mut self,
        w: &mut ColumnWriterImpl<'_, D>,
    ) -> Result<(), LeafError> {
        if self.defs.is_empty() {
            return Ok(());
        }
        // A required non-repeated leaf takes no levels at all: the values are the rows.
        let defs = (self.max_def > 0).then_some(&self.defs[..]);
        let reps = (self.max_rep > 0).then_some(&self.reps[..]);
        w.write_batch(&self.values[..], defs, reps)?;
        self.values.clear();
        self.defs.clear();
        self.reps.clear();
        Ok(())
    }
}

fn fill<D: DataType, T>(
    w: &mut ColumnWriterImpl<'_, D>,
    column: &Column<T>,
    part: usize,
    rows: &Rows<'_, T>,
    convert: impl Fn(Value<'_>) -> Option<D::T>,
) -> Result<(), LeafError> {
    let (max_def, max_rep) = column.levels();
    let mut staged = Staged {
        values: Vec::with_capacity(BATCH),
        defs: Vec::with_capacity(BATCH),
        reps: Vec::with_capacity(BATCH),
        max_def,
        max_rep,
    };
    for &row in rows.rows {
        // The indices were taken from `items` itself; a miss would be a grouping bug, and
        // skipping the row would misalign this leaf with the others, so it is an error.
        let Some(item) = rows.items.get(row) else {
            return Err(LeafError::Missing);
        };
        let cell = Cell {
            report_index: rows.report_index,
            report: rows.report,
            capture: rows.capture,
            index: row,
            item,
        };
        let mut mismatch = false;
        let present = emit(column, part, cell, &mut |def, rep, value| {
            staged.defs.push(def);
            staged.reps.push(rep);
            if let Some(value) = value {
                match convert(value) {
                    Some(v) => staged.values.push(v),
                    None => mismatch = true,
                }
            }
        });
        if mismatch {
            return Err(LeafError::Type);
        }
        if !present {
            return Err(LeafError::Missing);
        }
        // Only at a row boundary: a batch must not end inside a list.
        if staged.defs.len() >= BATCH {
            staged.flush(w)?;
        }
    }
    staged.flush(w)
}

/// Sends one row's levels and values of leaf `part` to `out`; false when a required column
/// has no value.
fn emit<'r, T>(
    column: &Column<T>,
    part: usize,
    cell: Cell<'r, T>,
    out: &mut impl FnMut(i16, i16, Option<Value<'r>>),
) -> bool {
    let optional = i16::from(column.nullable);
    let value = match &column.get {
        Get::Str(f) => f(cell).map(Value::Str),
        Get::Time(f) => f(cell).and_then(micros).map(Value::Int64),
        Get::Int32(f) => f(cell).map(Value::Int32),
        Get::Int64(f) => f(cell).map(Value::Int64),
        Get::Bool(f) => f(cell).map(Value::Bool),
        Get::StrList(f) => {
            let items = f(cell).map(|l| l.iter().map(|s| Value::Str(s)));
            return list(items, optional, out);
        }
        Get::IntList(f) => {
            return match f(cell) {
                None => list(None::<std::iter::Empty<Value<'r>>>, optional, out),
                Some(Ints::U64(l)) => list(
                    Some(l.iter().map(|&v| Value::Int64(int64(v)))),
                    optional,
                    out,
                ),
                Some(Ints::Usize(l)) => list(
                    Some(l.iter().map(|&v| Value::Int64(index64(v)))),
                    optional,
                    out,
                ),
            };
        }
        Get::Answers(f) => {
            let items = f(cell).iter().map(|a| match part {
                0 => Value::Str(&a.name),
                1 => Value::Str(&a.rrtype),
                2 => Value::Int64(i64::from(a.ttl)),
                _ => Value::Str(&a.data),
            });
            return list(Some(items), optional, out);
        }
    };
    match value {
        Some(v) => out(optional, 0, Some(v)),
        None if column.nullable => out(0, 0, None),
        None => return false,
    }
    true
}

/// The levels of one list: null (only when the column is nullable), empty, or its elements.
fn list<'r>(
    items: Option<impl Iterator<Item = Value<'r>>>,
    optional: i16,
    out: &mut impl FnMut(i16, i16, Option<Value<'r>>),
) -> bool {
    let Some(items) = items else {
        if optional == 0 {
            return false;
        }
        out(0, 0, None);
        return true;
    };
    // The first element starts the row (repetition 0), the others continue the list.
    let mut rep = 0;
    for value in items {
        out(optional + 1, rep, Some(value));
        rep = 1;
    }
    if rep == 0 {
        out(optional, 0, None);
    }
    true
}

/// Microseconds since the Unix epoch of an RFC 3339 time, `None` when it does not parse.
pub(super) fn micros(text: &str) -> Option<i64> {
    let t = OffsetDateTime::parse(text, &Rfc3339).ok()?;
    i64::try_from(t.unix_timestamp_nanos().div_euclid(1000)).ok()
}

/// Parquet has no unsigned 64-bit type that Spark reads, so counters are INT64; a value past
/// `i64::MAX` (never met in a capture) is written as `i64::MAX` rather than wrapping negative.
pub(super) fn int64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// An index or count held as `usize`, as INT64.
pub(super) fn index64(v: usize) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// An index held as `usize`, as INT32 (saturating, as [`int64`]).
pub(super) fn index32(v: usize) -> i32 {
    i32::try_from(v).unwrap_or(i32::MAX)
}
