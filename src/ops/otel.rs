//! Optional OpenTelemetry export of the tracing spans: OTLP over HTTP (protobuf) in batches to the
//! collector `[ops] otlp_endpoint` names. Off by default; with it off, nothing here runs per request.
//! Batches are sent by the app's own reqwest client on the tokio runtime (the exporter's batch
//! thread only waits for the reply), so no second HTTP stack or gRPC is built in.

use std::sync::atomic::{AtomicBool, Ordering};

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_http::{HeaderExtractor, HttpClient, HttpError};
use opentelemetry_otlp::{WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider};
use opentelemetry_sdk::Resource;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

use crate::config::OtlpExport;

/// Set once export is on: request spans then read the caller's `traceparent`.
static EXPORTING: AtomicBool = AtomicBool::new(false);

/// The running exporter, if any; [`Telemetry::shutdown`] sends what is still buffered.
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

impl Telemetry {
    pub fn off() -> Telemetry {
        Telemetry { provider: None }
    }

    pub fn is_exporting(&self) -> bool {
        self.provider.is_some()
    }

    /// The tracing layer that hands finished spans to the exporter (none when export is off).
    pub fn layer<S>(&self) -> Option<Box<dyn Layer<S> + Send + Sync>>
    where
        S: tracing::Subscriber + for<'span> LookupSpan<'span> + Send + Sync,
    {
        let tracer = self.provider.as_ref()?.tracer("insightops");
        Some(tracing_opentelemetry::layer().with_tracer(tracer).boxed())
    }

    /// Flushes the buffered spans (waiting at most the export timeout) and stops the exporter.
    pub fn shutdown(self) {
        if let Some(provider) = self.provider {
            if let Err(err) = provider.shutdown() {
                eprintln!("insightops: OpenTelemetry export did not finish at shutdown: {err}");
            }
        }
    }
}

/// Builds the exporter and the tracer provider. Must run inside the tokio runtime.
pub fn start(export: &OtlpExport) -> Result<Telemetry, String> {
    let client = RuntimeClient::new(export.timeout)?;
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_http_client(client)
        .with_endpoint(export.endpoint.clone())
        .with_timeout(export.timeout)
        .build()
        .map_err(|e| format!("OTLP exporter for {}: {e}", export.endpoint))?;
    let resource = Resource::builder().with_service_name(export.service_name.clone()).build();
    let sampler = Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(export.sample_ratio)));
    let provider = SdkTracerProvider::builder().with_batch_exporter(exporter).with_resource(resource).with_sampler(sampler).build();
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    EXPORTING.store(true, Ordering::Relaxed);
    Ok(Telemetry { provider: Some(provider) })
}

/// Makes `span` a child of the W3C trace context in `headers`, when export is on and there is one.
pub fn continue_trace(span: &tracing::Span, headers: &axum::http::HeaderMap) {
    if !EXPORTING.load(Ordering::Relaxed) || !headers.contains_key("traceparent") {
        return;
    }
    let parent = opentelemetry::global::get_text_map_propagator(|propagator| propagator.extract(&HeaderExtractor(headers)));
    // A malformed traceparent yields an empty context: the request then starts its own trace.
    let _ = span.set_parent(parent);
}

/// The exporter's HTTP client: reqwest on the tokio runtime the app runs on. The SDK's batch
/// thread is not a tokio thread, so each request is spawned onto the runtime and awaited there.
#[derive(Debug)]
struct RuntimeClient {
    client: reqwest::Client,
    runtime: tokio::runtime::Handle,
}

impl RuntimeClient {
    fn new(timeout: std::time::Duration) -> Result<RuntimeClient, String> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| "OpenTelemetry export needs the tokio runtime".to_string())?;
        let client = reqwest::Client::builder().timeout(timeout).build().map_err(|e| format!("OTLP HTTP client: {e}"))?;
        Ok(RuntimeClient { client, runtime })
    }
}

#[async_trait::async_trait]
impl HttpClient for RuntimeClient {
    async fn send_bytes(&self, request: axum::http::Request<bytes::Bytes>) -> Result<axum::http::Response<bytes::Bytes>, HttpError> {
        let request = reqwest::Request::try_from(request)?;
        let client = self.client.clone();
        let reply = self.runtime.spawn(async move {
            let reply = client.execute(request).await?;
            let status = reply.status();
            let body = reply.bytes().await?;
            Ok::<_, reqwest::Error>((status, body))
        });
        let (status, body) = reply.await??;
        Ok(axum::http::Response::builder().status(status).body(body)?)
    }
}
