//! The README's async routing example is `examples/async_router.rs`'s app, verbatim: the
//! README shows what runs.

#[test]
fn the_readme_async_routing_example_is_the_examples_app() {
    let readme = include_str!("../README.md");
    let example = include_str!("../examples/async_router.rs");
    let section = &readme[readme
        .find("## Async routing")
        .expect("the README has an Async routing section")..];
    let fence = "```rust,no_run\n";
    let start = section.find(fence).expect("a rust code block in it") + fence.len();
    let len = section[start..].find("```").expect("the block ends");
    let code = &section[start..start + len];
    assert!(
        code.contains("fn app(") && code.contains("get_async(ticks)"),
        "{code}"
    );
    assert!(
        example.contains(code),
        "the README's block is not in examples/async_router.rs as it is:\n{code}"
    );
}
