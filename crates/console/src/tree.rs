//! A why-tree as nested lists: each node links to its own page.

use faultline_api::WhyNode;
use maud::{Markup, html};

use crate::format::{component_href, state_class, state_symbol};

/// Deepest nesting rendered: a why-tree follows the (acyclic) requirement graph, so this only
/// bounds what a pathological topology could make a browser lay out.
const MAX_DEPTH: usize = 64;

/// The tree rooted at `node`.
pub(crate) fn why_tree(node: &WhyNode) -> Markup {
    html! { ul.why { (item(node, 0)) } }
}

fn item(node: &WhyNode, depth: usize) -> Markup {
    let kind = if node.kind == "links" {
        "link"
    } else {
        node.kind.as_str()
    };
    html! {
        li data-id=(node.id) data-state=(node.state.as_str()) {
            span class={ "state " (state_class(node.state)) } {
                (state_symbol(node.state)) " " (node.state.as_str())
            }
            " "
            a href=(component_href(kind, &node.id)) { (node.id) }
            " "
            span.kind { "[" (node.kind) "]" }
            @if let Some(p) = node.path {
                " " span.detail { "path " (p.as_str()) }
            }
            @if !node.detail.is_empty() {
                " " span.detail { "(" (node.detail) ")" }
            }
            @if node.failed_itself {
                " " strong.cause { "← failed itself" }
            }
            @if node.repeated {
                " " span.detail { "[see above]" }
            }
            @if !node.children.is_empty() && depth < MAX_DEPTH {
                ul {
                    @for c in &node.children {
                        (item(c, depth + 1))
                    }
                }
            }
        }
    }
}
