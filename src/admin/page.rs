//! Admin pages: the org's users with a role changer, and the filterable audit log.
//! Non-admins who open them get the 403 message, not the data.

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;
use leptos_router::hooks::use_location;

use super::api::{list_audit, list_users, SetUserRole};
use super::{AuditAction, AuditFilter, AuditPage, UserSummary};
use crate::auth::Role;
use crate::ui::ErrorPanel;

#[component]
pub fn UsersPage() -> impl IntoView {
    let set_role = ServerAction::<SetUserRole>::new();
    let users = Resource::new(move || set_role.version().get(), |_| list_users());
    view! {
        <Title text="Users · InsightOps"/>
        <h1>"Users"</h1>
        <p class="page-intro">"Roles decide what each person sees: board members read the board summary and dashboards, managers also get reports, admins manage users and review recommendations. Every change is in the audit log."</p>
        {move || set_role.value().get().map(|result| match result {
            Ok(user) => view! { <p class="form-ok" role="status">{format!("{} is now {}.", user.email, user.role.label())}</p> }.into_any(),
            Err(error) => view! { <p class="form-error" role="alert">{error.to_string()}</p> }.into_any(),
        })}
        <Transition fallback=|| view! { <p class="loading" role="status">"Loading…"</p> }>
            {move || users.get().map(|result| match result {
                Ok(list) => view! { <UserTable users=list set_role/> }.into_any(),
                Err(error) => view! { <ErrorPanel error/> }.into_any(),
            })}
        </Transition>
    }
}

#[component]
fn UserTable(users: Vec<UserSummary>, set_role: ServerAction<SetUserRole>) -> impl IntoView {
    view! {
        <table class="data-table" data-testid="users">
            <caption class="visually-hidden">"Users of this organisation and their roles"</caption>
            <thead><tr><th scope="col">"Name"</th><th scope="col">"Email"</th><th scope="col">"Role"</th><th scope="col">"Change role"</th></tr></thead>
            <tbody>
                {users.into_iter().map(|user| {
                    let label = format!("New role for {}", user.email);
                    view! {
                        <tr>
                            <td>{user.display_name.clone()}</td>
                            <td>{user.email.clone()}</td>
                            <td>{user.role.label()}</td>
                            <td>
                                {if user.is_you {
                                    view! { <span class="muted">"(you)"</span> }.into_any()
                                } else {
                                    view! {
                                        <ActionForm action=set_role>
                                            <input type="hidden" name="user_id" value=user.id.to_string()/>
                                            <select name="role" aria-label=label>
                                                {Role::ALL.iter().map(|r| view! { <option value=r.as_str() selected=*r == user.role>{r.label()}</option> }).collect_view()}
                                            </select>
                                            <button type="submit">"Save"</button>
                                        </ActionForm>
                                    }.into_any()
                                }}
                            </td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}

#[component]
pub fn AuditLogPage() -> impl IntoView {
    let location = use_location();
    let page = Resource::new(move || location.search.get(), list_audit);
    view! {
        <Title text="Audit log · InsightOps"/>
        <h1>"Audit log"</h1>
        <Transition fallback=|| view! { <p class="loading" role="status">"Loading…"</p> }>
            {move || page.get().map(|result| match result {
                Ok(data) => view! { <AuditBody data/> }.into_any(),
                Err(error) => view! { <ErrorPanel error/><p><a href="/admin/audit">"Show the whole log"</a></p> }.into_any(),
            })}
        </Transition>
    }
}

#[component]
fn AuditBody(data: AuditPage) -> impl IntoView {
    let filter = data.filter.clone();
    let page_link = |page: u32| format!("/admin/audit?{}", AuditFilter { page, ..filter.clone() }.to_query_string());
    let previous = (filter.page > 0).then(|| page_link(filter.page - 1));
    let next = data.has_more.then(|| page_link(filter.page + 1));
    let count = data.entries.len();
    view! {
        <Form method="GET" action="/admin/audit">
            <fieldset class="filters">
                <legend class="visually-hidden">"Filter the audit log"</legend>
                <label>"Action"
                    <select name="action">
                        <option value="">"Any"</option>
                        {AuditAction::ALL.iter().map(|a| view! { <option value=a.as_str() selected=filter.action == Some(*a)>{a.label()}</option> }).collect_view()}
                    </select>
                </label>
                <label>"Who" <input type="search" name="actor" value=filter.actor.clone().unwrap_or_default() placeholder="email"/></label>
                <label>"From" <input type="date" name="from" value=filter.from.map(|d| d.to_string()).unwrap_or_default()/></label>
                <label>"To" <input type="date" name="to" value=filter.to.map(|d| d.to_string()).unwrap_or_default()/></label>
                <button type="submit">"Filter"</button>
            </fieldset>
        </Form>
        <p class="as-of" role="status">{if count == 0 { "No events match these filters.".to_string() } else { format!("{count} event(s) on this page, newest first.") }}</p>
        <table class="data-table" data-testid="audit">
            <caption class="visually-hidden">"Audit events"</caption>
            <thead><tr><th scope="col">"When (UTC)"</th><th scope="col">"Who"</th><th scope="col">"Action"</th><th scope="col">"Target"</th><th scope="col">"Detail"</th><th scope="col">"From"</th></tr></thead>
            <tbody>
                {data.entries.into_iter().map(|e| view! {
                    <tr>
                        <td>{crate::format::utc_time(&e.at)}</td>
                        <td>{e.actor}</td>
                        <td data-action=e.action_token.clone()>{e.action.map_or(e.action_token.clone(), |a| a.label().to_string())}</td>
                        <td>{e.target}</td>
                        <td><code>{e.detail}</code></td>
                        <td>{e.ip.unwrap_or_default()}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
        <nav class="pager" aria-label="Audit log pages">
            {previous.map(|href| view! { <a href=href>"Newer"</a> })}
            {next.map(|href| view! { <a href=href>"Older"</a> })}
        </nav>
    }
}
