//! Who writes a narrative. [`Deterministic`] composes it from the facts (`analytics::story`), the
//! default everywhere. [`OpenAiCompatible`] asks a model behind an OpenAI-compatible chat API
//! (llama.cpp's server, Ollama, vLLM, hosted services) under a versioned prompt and output
//! contract; its reply is checked by `analytics::guard`, and when it fails (timeout, error,
//! malformed reply, too little left after the guard) the deterministic text is used and the reason
//! is logged.

use serde::Deserialize;
use serde_json::json;

use crate::analytics::guard::{self, Dropped};
use crate::analytics::story::{compose, Audience, Author, CitedFact, Narrative, Paragraph, PeriodLabels, Sentence, StoryFacts, Topic};
use crate::config::narrative::{LlmEndpoint, Writer};

/// The prompt and output contract the model is held to; stored with every narrative it wrote.
pub const PROMPT_VERSION: &str = "narrative-v1";

const SYSTEM_PROMPT: &str = "You write the narrative of a business period for its readers (the board or managers). \
You receive JSON: the audience, the period labels, and a list of facts, each with an id and the sentence that states it. \
Use only these facts. Write a headline and 3 to 6 short paragraphs with the topics performance, movements, anomalies and outlook. \
Every number you write must appear exactly as it is written in a fact you cite (same rounding, same unit); write numbers as digits; \
do not compute new numbers, totals or percentages. Every sentence must name the ids of the facts it uses. \
Reply with one JSON object and nothing else: \
{\"headline\": {\"text\": \"...\", \"facts\": [\"f1\"]}, \"paragraphs\": [{\"topic\": \"performance\", \"sentences\": [{\"text\": \"...\", \"facts\": [\"f1\", \"f2\"]}]}]}";

/// What to write about.
pub struct NarrativeRequest<'a> {
    pub audience: Audience,
    pub labels: &'a PeriodLabels,
    pub facts: &'a StoryFacts,
}

/// A written narrative and who wrote it.
#[derive(Debug, Clone, PartialEq)]
pub struct Written {
    pub narrative: Narrative,
    pub author: Author,
    pub model_name: Option<String>,
    pub prompt_version: Option<&'static str>,
    /// Why a model's text was not used, or which of its sentences the guard dropped.
    pub notes: Vec<String>,
}

/// A writer of narratives.
#[async_trait::async_trait]
pub trait Summarizer: Send + Sync {
    async fn write(&self, request: &NarrativeRequest<'_>) -> Written;
}

/// The default writer: [`compose`].
pub struct Deterministic;

#[async_trait::async_trait]
impl Summarizer for Deterministic {
    async fn write(&self, request: &NarrativeRequest<'_>) -> Written {
        deterministic(request, Vec::new())
    }
}

fn deterministic(request: &NarrativeRequest<'_>, notes: Vec<String>) -> Written {
    Written { narrative: compose(request.labels, request.facts), author: Author::Deterministic, model_name: None, prompt_version: None, notes }
}

/// The writer `[narrative]` and the environment chose.
pub fn for_config(writer: &Writer) -> Box<dyn Summarizer> {
    match writer {
        Writer::Deterministic => Box::new(Deterministic),
        Writer::Llm(endpoint) => Box::new(OpenAiCompatible { endpoint: endpoint.clone() }),
    }
}

/// A model behind `POST {base_url}/chat/completions`.
pub struct OpenAiCompatible {
    pub endpoint: LlmEndpoint,
}

#[async_trait::async_trait]
impl Summarizer for OpenAiCompatible {
    async fn write(&self, request: &NarrativeRequest<'_>) -> Written {
        let facts = request.facts.all();
        let reply = match tokio::time::timeout(self.endpoint.timeout, self.ask(request, &facts)).await {
            Ok(Ok(candidate)) => candidate,
            Ok(Err(reason)) => return self.fall_back(request, reason),
            Err(_) => return self.fall_back(request, format!("no reply within {} s", self.endpoint.timeout.as_secs())),
        };
        let outcome = guard::check(&reply, &facts, request.labels);
        let dropped: Vec<String> = outcome.dropped.iter().map(describe).collect();
        for note in &dropped {
            tracing::warn!(model = %self.endpoint.model, dropped = %note, "narrative: the guard dropped a sentence of the model's");
        }
        match outcome.narrative {
            Some(narrative) => Written {
                narrative,
                author: Author::Llm,
                model_name: Some(self.endpoint.model.clone()),
                prompt_version: Some(PROMPT_VERSION),
                notes: dropped,
            },
            None => self.fall_back(request, format!("too little survived the guard ({} sentence(s) dropped)", dropped.len())),
        }
    }
}

fn describe(d: &Dropped) -> String {
    format!("{:?}: {:?}", d.reason, d.text)
}

impl OpenAiCompatible {
    fn fall_back(&self, request: &NarrativeRequest<'_>, reason: String) -> Written {
        tracing::warn!(model = %self.endpoint.model, %reason, "narrative: the model's text was not used; the deterministic narrative is");
        deterministic(request, vec![reason])
    }

    /// One chat completion; its message parsed as the contract's JSON.
    async fn ask(&self, request: &NarrativeRequest<'_>, facts: &[CitedFact]) -> Result<Narrative, String> {
        let client = reqwest::Client::builder().timeout(self.endpoint.timeout).build().map_err(|e| format!("HTTP client: {e}"))?;
        let mut call = client
            .post(format!("{}/chat/completions", self.endpoint.base_url))
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(self.body(request, facts).to_string());
        if let Some(key) = &self.endpoint.api_key {
            call = call.bearer_auth(key);
        }
        let timed_out = || format!("no reply within {} s", self.endpoint.timeout.as_secs());
        let reply = call.send().await.map_err(|e| if e.is_timeout() { timed_out() } else { format!("request failed: {e}") })?;
        let status = reply.status();
        if !status.is_success() {
            return Err(format!("the API answered {status}"));
        }
        let bytes = reply.bytes().await.map_err(|e| if e.is_timeout() { timed_out() } else { format!("reading the reply: {e}") })?;
        let body: ChatReply = serde_json::from_slice(&bytes).map_err(|e| format!("not a chat completion: {e}"))?;
        let content = body.choices.into_iter().next().map(|c| c.message.content).ok_or("the reply has no choices")?;
        parse_contract(&content)
    }

    fn body(&self, request: &NarrativeRequest<'_>, facts: &[CitedFact]) -> serde_json::Value {
        let facts: Vec<serde_json::Value> = facts
            .iter()
            .map(|f| json!({ "id": f.id, "metric": f.fact.metric().label, "text": f.text() }))
            .collect();
        let input = json!({
            "prompt_version": PROMPT_VERSION,
            "audience": request.audience.as_str(),
            "period": request.labels,
            "facts": facts,
        });
        json!({
            "model": self.endpoint.model,
            "temperature": 0,
            "max_tokens": self.endpoint.max_tokens,
            "response_format": { "type": "json_object" },
            "messages": [
                { "role": "system", "content": SYSTEM_PROMPT },
                { "role": "user", "content": input.to_string() },
            ],
        })
    }
}

#[derive(Deserialize)]
struct ChatReply {
    choices: Vec<Choice>,
}

#[derive(Deserialize)]
struct Choice {
    message: Message,
}

#[derive(Deserialize)]
struct Message {
    content: String,
}

#[derive(Deserialize)]
struct ContractNarrative {
    headline: ContractSentence,
    paragraphs: Vec<ContractParagraph>,
}

#[derive(Deserialize)]
struct ContractParagraph {
    #[serde(default)]
    topic: String,
    sentences: Vec<ContractSentence>,
}

#[derive(Deserialize)]
struct ContractSentence {
    text: String,
    #[serde(default)]
    facts: Vec<String>,
}

/// The model's message as the contract's JSON; a fenced block (```json … ```) is unwrapped first.
pub fn parse_contract(content: &str) -> Result<Narrative, String> {
    let trimmed = content.trim();
    let unfenced = trimmed
        .strip_prefix("```json")
        .or_else(|| trimmed.strip_prefix("```"))
        .and_then(|rest| rest.trim_end().strip_suffix("```"))
        .unwrap_or(trimmed);
    let parsed: ContractNarrative = serde_json::from_str(unfenced.trim()).map_err(|e| format!("the reply is not the contract's JSON: {e}"))?;
    let sentence = |s: ContractSentence| Sentence { text: s.text.trim().to_string(), cites: s.facts };
    let topic = |t: &str| match t.trim().to_ascii_lowercase().as_str() {
        "movements" => Topic::Movements,
        "anomalies" => Topic::Anomalies,
        "outlook" => Topic::Outlook,
        _ => Topic::Performance,
    };
    Ok(Narrative {
        headline: sentence(parsed.headline),
        paragraphs: parsed
            .paragraphs
            .into_iter()
            .map(|p| Paragraph { topic: topic(&p.topic), sentences: p.sentences.into_iter().map(sentence).collect() })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_contract_is_read_fenced_or_not_and_anything_else_is_refused() {
        let json = r#"{"headline": {"text": "Orders up 20.0%.", "facts": ["f6"]}, "paragraphs": [{"topic": "Outlook", "sentences": [{"text": " Fine. ", "facts": []}]}]}"#;
        let plain = parse_contract(json).expect("plain JSON");
        assert_eq!(plain.headline.cites, vec!["f6"]);
        assert_eq!((plain.paragraphs[0].topic, plain.paragraphs[0].sentences[0].text.as_str()), (Topic::Outlook, "Fine."));
        assert_eq!(parse_contract(&format!("```json\n{json}\n```")), Ok(plain));
        for bad in ["", "Sure! Here is the narrative.", "{\"headline\": 3}", "```json\n{\"paragraphs\": []}\n```"] {
            assert!(parse_contract(bad).is_err_and(|e| e.contains("contract")), "{bad:?}");
        }
    }

    proptest::proptest! {
        /// Whatever a model replies, reading it never panics.
        #[test]
        fn any_reply_is_read_without_panicking(text in "\\PC{0,300}") {
            let _ = parse_contract(&text);
        }
    }
}
