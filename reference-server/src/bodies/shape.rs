//! The one shape rule every JSON body follows before its fields are read: it is an object. No
//! Rocket here: the fuzz crate compiles this file by path.

/// Whether the JSON text is an object (its first character after JSON whitespace is `{`). Every
/// body is one: without this check serde would also read a struct from an array of its fields
/// in order (`[null, null]`).
pub fn is_object(bytes: &[u8]) -> bool {
    bytes
        .iter()
        .find(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
        == Some(&b'{')
}
