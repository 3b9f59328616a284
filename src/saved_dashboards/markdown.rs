//! Text widgets' Markdown to HTML, safely. The author's raw HTML is shown as text, links keep
//! only http, https and this site's own paths, and images become their alt text (an image would
//! load from anywhere, a tracking pixel on a shared dashboard). The page may put the result into
//! the DOM as it is: every byte of markup in it comes from this module or pulldown-cmark's writer.

use pulldown_cmark::{CowStr, Event, Options, Parser, Tag, TagEnd};
use pulldown_cmark::html::push_html;

/// Whether a link may be followed from a dashboard: absolute http(s), or a path on this site
/// (not `//host`, which is another site).
pub fn allowed_link(url: &str) -> bool {
    let url = url.trim();
    let lower = url.to_ascii_lowercase();
    lower.starts_with("https://") || lower.starts_with("http://") || (url.starts_with('/') && !url.starts_with("//") && !url.starts_with("/\\"))
}

fn link_open(url: &str) -> String {
    let mut html = String::from("<a href=\"");
    // escape_href percent-encodes what is not URL-safe and HTML-escapes quotes and angle brackets.
    let _ = pulldown_cmark_escape::escape_href(&mut html, url);
    html.push_str("\" rel=\"noopener noreferrer nofollow\">");
    html
}

/// The HTML of a text widget's Markdown.
pub fn to_html(markdown: &str) -> String {
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS;
    // Links cannot nest, so one flag says whether the current link's end is to be dropped too.
    let mut dropped_link = false;
    let events = Parser::new_ext(markdown, options).filter_map(|event| match event {
        Event::Html(raw) | Event::InlineHtml(raw) => Some(Event::Text(raw)),
        Event::Start(Tag::Link { dest_url, .. }) => {
            dropped_link = !allowed_link(&dest_url);
            (!dropped_link).then(|| Event::InlineHtml(CowStr::from(link_open(&dest_url))))
        }
        Event::End(TagEnd::Link) => (!std::mem::take(&mut dropped_link)).then(|| Event::InlineHtml(CowStr::Borrowed("</a>"))),
        // The alt text stays, as the text events between the image's start and end.
        Event::Start(Tag::Image { .. }) | Event::End(TagEnd::Image) => None,
        other => Some(other),
    });
    let mut html = String::with_capacity(markdown.len() * 3 / 2);
    push_html(&mut html, events);
    html
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn markdown_renders_with_safe_links_only() {
        let html = to_html("# Notes\n\n**Revenue** is *up*; see [the board](https://example.com/a?b=1&c=\"2\") and [ours](/exec).");
        assert!(html.contains("<h1>Notes</h1>"), "{html}");
        assert!(html.contains("<strong>Revenue</strong>"));
        assert!(html.contains("<a href=\"https://example.com/a?b=1&amp;c=%222%22\" rel=\"noopener noreferrer nofollow\">the board</a>"), "{html}");
        assert!(html.contains("<a href=\"/exec\""), "{html}");
        for bad in ["javascript:alert(1)", "JAVASCRIPT:alert(1)", "data:text/html,x", "//evil.example/x", "vbscript:x", "file:///etc/passwd"] {
            let html = to_html(&format!("[click]({bad})"));
            assert!(!html.contains("<a"), "{bad}: {html}");
            assert!(html.contains("click"), "the link text stays: {html}");
        }
    }

    #[test]
    fn words_in_text_are_not_mistaken_for_attributes() {
        // CI's counter-example: the word "ON" in a code span is text, not an `on…` handler.
        let html = to_html("`\nON`");
        assert_eq!(html, "<p><code> ON</code></p>\n");
        assert!(tag_insides(&html).iter().all(|inside| !inside.contains(" on")), "{html}");
        assert_eq!(tag_insides("<a href=\"/x\" onclick=\"y\">"), vec!["a href=\"/x\" onclick=\"y\"".to_string()]);
    }

    #[test]
    fn raw_html_and_images_are_shown_as_text() {
        let html = to_html("<script>alert(1)</script>\n\nhi <img src=x onerror=alert(1)> ![logo](https://tracker.example/p.gif)");
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(html.contains("&lt;script&gt;"), "{html}");
        assert!(html.contains("logo"), "alt text stays: {html}");
    }

    /// Every tag the writer can emit from what we let through; anything else would be injected.
    const ALLOWED_TAGS: [&str; 27] = [
        "p", "h1", "h2", "h3", "h4", "h5", "h6", "em", "strong", "del", "a", "ul", "ol", "li", "blockquote", "pre", "code", "hr", "br", "table",
        "thead", "tbody", "tr", "th", "td", "input", "sup",
    ];

    fn tags(html: &str) -> Vec<String> {
        html.split('<').skip(1).map(|t| t.trim_start_matches('/').chars().take_while(|c| c.is_ascii_alphanumeric()).collect()).collect()
    }

    /// The inside of every tag, `<` to `>`: text is escaped, so every `<` left opens markup, and
    /// only there can an attribute be (the words "on" or "src" in text are harmless).
    fn tag_insides(html: &str) -> Vec<String> {
        html.split('<').skip(1).map(|t| t.split('>').next().unwrap_or_default().to_ascii_lowercase()).collect()
    }

    proptest! {
        #[test]
        fn no_markdown_yields_markup_we_do_not_allow(text in "(\\PC|[<>\\[\\]()!:/\"'`*_#\\n -]){0,300}") {
            let html = to_html(&text);
            for tag in tags(&html) {
                prop_assert!(ALLOWED_TAGS.contains(&tag.as_str()), "tag {tag:?} in {html:?}");
            }
            for inside in tag_insides(&html) {
                for attribute in [" on", "javascript:", " style=", " src="] {
                    prop_assert!(!inside.contains(attribute), "{attribute:?} in <{inside}> of {html:?}");
                }
            }
        }

        #[test]
        fn hostile_html_never_passes(inner in "\\PC{0,40}", tag in "(script|img|iframe|svg|a|style|object)") {
            let html = to_html(&format!("x <{tag} onload=\"{inner}\" src=\"javascript:{inner}\">{inner}</{tag}>"));
            prop_assert!(!html.contains(&format!("<{tag} ")), "{html}");
        }
    }
}
