//! `/admin/tokens`: create an API token for a script (shown once, with a `curl` example), see the
//! org's tokens with when each was last used, and revoke one.

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;

use super::api::{list_tokens, CreateToken, RevokeToken};
use super::{ApiTokenSummary, CreatedToken, TokenScope};
use crate::ui::ErrorPanel;

#[component]
pub fn TokensAdminPage() -> impl IntoView {
    let create = ServerAction::<CreateToken>::new();
    let revoke = ServerAction::<RevokeToken>::new();
    let data = Resource::new(move || (create.version().get(), revoke.version().get()), |_| list_tokens());
    view! {
        <Title text="API tokens · InsightOps"/>
        <h1>"API tokens"</h1>
        <p class="page-intro">"Scripts load KPIs and signals through the ingest API with a token of this organisation. A token is shown once, when it is created; only a hash of it is kept. Revoke a token the moment it may have leaked."</p>
        <ActionForm action=create>
            <fieldset class="filters">
                <legend>"New token"</legend>
                <label>"Name" <input type="text" name="name" required maxlength="80" placeholder="nightly-warehouse-export"/></label>
                {TokenScope::ALL.iter().map(|s| view! {
                    <label class="check"><input type="checkbox" name="scopes[]" value=s.as_str() checked=*s == TokenScope::Ingest/>{s.as_str()}</label>
                }).collect_view()}
                <button type="submit">"Create token"</button>
            </fieldset>
        </ActionForm>
        {move || create.value().get().map(|r| match r {
            Ok(created) => view! { <NewToken created/> }.into_any(),
            Err(e) => view! { <p class="form-error" role="alert" data-testid="token-message">{e.to_string()}</p> }.into_any(),
        })}
        {move || revoke.value().get().map(|r| match r {
            Ok(t) => view! { <p class="form-ok" role="status" data-testid="token-message">{format!("{} is revoked.", t.name)}</p> }.into_any(),
            Err(e) => view! { <p class="form-error" role="alert" data-testid="token-message">{e.to_string()}</p> }.into_any(),
        })}
        <Transition fallback=|| view! { <p class="loading" role="status">"Loading…"</p> }>
            {move || data.get().map(|result| match result {
                Ok(tokens) => view! { <TokenTable tokens revoke/> }.into_any(),
                Err(error) => view! { <ErrorPanel error/> }.into_any(),
            })}
        </Transition>
    }
}

#[component]
fn NewToken(created: CreatedToken) -> impl IntoView {
    let example = format!(
        "curl -X POST -H 'Authorization: Bearer {}' -H 'Content-Type: application/json' \\\n  --data '[{{\"date\": \"2026-11-25\", \"metric\": \"revenue\", \"value\": 1250.5}}]' \\\n  http://localhost:3000/api/v1/kpis",
        created.token
    );
    view! {
        <section class="form-ok" role="status" aria-labelledby="new-token">
            <h2 id="new-token">{format!("Token {} created", created.summary.name)}</h2>
            <p>"Copy it now: it is not shown again."</p>
            <p><code data-testid="new-token">{created.token.clone()}</code></p>
            <p>"Try it:"</p>
            <pre><code>{example}</code></pre>
        </section>
    }
}

#[component]
fn TokenTable(tokens: Vec<ApiTokenSummary>, revoke: ServerAction<RevokeToken>) -> impl IntoView {
    if tokens.is_empty() {
        return view! { <p role="status">"No tokens yet."</p> }.into_any();
    }
    view! {
        <div class="table-scroll">
            <table class="data-table" data-testid="tokens">
                <caption class="visually-hidden">"API tokens of this organisation"</caption>
                <thead><tr>
                    <th scope="col">"Name"</th><th scope="col">"Starts with"</th><th scope="col">"Scopes"</th><th scope="col">"Created"</th>
                    <th scope="col">"Last used"</th><th scope="col">"Status"</th><th scope="col">"Actions"</th>
                </tr></thead>
                <tbody>
                    {tokens.into_iter().map(|t| {
                        let scopes = t.scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ");
                        let live = t.revoked_at.is_none();
                        let id = t.id.to_string();
                        let revoke_label = format!("Revoke {}", t.name);
                        view! {
                            <tr data-token=t.name.clone()>
                                <td>{t.name.clone()}</td>
                                <td><code>{format!("{}…", t.prefix)}</code></td>
                                <td>{scopes}</td>
                                <td>{format!("{} by {}", t.created_at, t.created_by.clone().unwrap_or_else(|| "a deleted user".into()))}</td>
                                <td>{t.last_used_at.clone().unwrap_or_else(|| "never".into())}</td>
                                <td data-testid="token-status">{t.revoked_at.clone().map(|at| format!("revoked {at}")).unwrap_or_else(|| "live".into())}</td>
                                <td class="actions">{live.then(|| view! {
                                    <ActionForm action=revoke><input type="hidden" name="token_id" value=id/><button type="submit">{revoke_label.clone()}</button></ActionForm>
                                })}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}
