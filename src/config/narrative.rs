//! `[narrative]`: who writes the board and manager narratives. The deterministic writer always
//! works and is the default everywhere; a language model behind an OpenAI-compatible chat API
//! (llama.cpp's server, Ollama, vLLM or a hosted service) writes them instead only where an
//! environment turns it on (`[env.NAME] narrative_writer = "llm"`), and its text is then checked
//! number by number against the facts (`analytics::guard`). The API key comes from the
//! environment only (`INSIGHTOPS_LLM_API_KEY`).

use serde::Deserialize;

/// The writer an environment uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NarrativeWriter {
    Deterministic,
    Llm,
}

#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NarrativeConfig {
    pub llm: LlmConfig,
}

/// `[narrative.llm]`: the chat API a model answers on.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LlmConfig {
    /// The API's base URL, e.g. "http://127.0.0.1:8080/v1"; requests go to `{base_url}/chat/completions`.
    pub base_url: Option<String>,
    pub model: Option<String>,
    /// A reply slower than this is abandoned and the deterministic text is used.
    pub timeout_seconds: u32,
    pub max_tokens: u32,
}

impl Default for LlmConfig {
    fn default() -> Self {
        LlmConfig { base_url: None, model: None, timeout_seconds: 20, max_tokens: 1500 }
    }
}

impl NarrativeConfig {
    pub fn validate(&self) -> Result<(), String> {
        super::in_range("narrative.llm.timeout_seconds", self.llm.timeout_seconds, 1..=600)?;
        super::in_range("narrative.llm.max_tokens", self.llm.max_tokens, 64..=32_768)?;
        if let Some(url) = &self.llm.base_url {
            super::ops::check_otlp_endpoint(url).map_err(|m| format!("`narrative.llm.base_url` {m}"))?;
        }
        Ok(())
    }
}

/// A model's chat API, settled: where, which model, how long to wait, and the key (if any).
#[derive(Clone, PartialEq)]
pub struct LlmEndpoint {
    pub base_url: String,
    pub model: String,
    pub timeout: std::time::Duration,
    pub max_tokens: u32,
    pub api_key: Option<String>,
}

impl std::fmt::Debug for LlmEndpoint {
    /// The key is never printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LlmEndpoint").field("base_url", &self.base_url).field("model", &self.model).field("timeout", &self.timeout).finish_non_exhaustive()
    }
}

/// The writer of this environment, with its endpoint when it is a model.
#[derive(Debug, Clone, PartialEq)]
pub enum Writer {
    Deterministic,
    Llm(LlmEndpoint),
}

/// `writer_key` names the profile key that chose the writer, for the error message.
pub fn settle(config: NarrativeConfig, chosen: NarrativeWriter, writer_key: &str, api_key: Option<String>) -> Result<Writer, String> {
    if chosen == NarrativeWriter::Deterministic {
        return Ok(Writer::Deterministic);
    }
    let (Some(base_url), Some(model)) = (config.llm.base_url, config.llm.model.filter(|m| !m.trim().is_empty())) else {
        return Err(format!("`{writer_key}` = \"llm\" needs `narrative.llm.base_url` and `narrative.llm.model`"));
    };
    Ok(Writer::Llm(LlmEndpoint {
        base_url: base_url.trim_end_matches('/').to_string(),
        model,
        timeout: std::time::Duration::from_secs(config.llm.timeout_seconds.into()),
        max_tokens: config.llm.max_tokens,
        api_key,
    }))
}
