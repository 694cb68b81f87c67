//! The README states facts the code computes; this keeps them equal.

#[test]
fn readme_sizing_table_is_what_the_sizing_model_computes() {
    let readme = std::fs::read_to_string("README.md").expect("README.md");
    let start =
        "<!-- sizing-table:start (generated from tracestack::model::sizing::table; a test keeps it current) -->\n";
    let (_, rest) = readme.split_once(start).expect("sizing-table start marker in README.md");
    let (table, _) = rest.split_once("<!-- sizing-table:end -->").expect("sizing-table end marker in README.md");
    let expected = tracestack::model::sizing::table(&[1_000, 10_000, 100_000]);
    assert_eq!(table, expected, "README sizing table is stale; replace it with:\n{expected}");
}
