//! YAML output with the settings every generated file shares.

use serde::Serialize;

use crate::error::Error;

/// Serialises `value` as block-style YAML that reads back identically under YAML 1.1 (what kubectl
/// uses): serde-saphyr quotes strings such as `on`, `n`, `1:30` or `2024-01-01`; long strings stay
/// on one line (never folded); multi-line strings become `|` literal blocks.
///
/// # Errors
/// When `value` cannot be serialised (a map with non-string keys, say).
pub fn to_string<T: Serialize>(value: &T) -> Result<String, Error> {
    let options = serde_saphyr::ser_options! {
        folded_wrap_chars: usize::MAX,
        min_fold_chars: usize::MAX,
    };
    serde_saphyr::to_string_with_options(value, options)
        .map_err(|e| Error::Serialize { what: std::any::type_name::<T>().into(), message: e.to_string() })
}
