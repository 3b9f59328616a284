//! The browser side of charts: draws a charming option into its canvas and frees it on unmount.
//! charming has no event or dispose API, so a small extern type of our own covers those calls.

use charming::{Chart, WasmRenderer};
use leptos::prelude::on_cleanup;
use send_wrapper::SendWrapper;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

#[wasm_bindgen]
extern "C" {
    /// An echarts instance, as returned by `echarts.init`.
    pub type EchartsInstance;

    #[wasm_bindgen(method)]
    pub fn dispose(this: &EchartsInstance);

    #[wasm_bindgen(method)]
    pub fn resize(this: &EchartsInstance);

    /// `instance.on(eventName, handler)`: charming has no event API.
    #[wasm_bindgen(method)]
    pub fn on(this: &EchartsInstance, event: &str, handler: &js_sys::Function);
}

/// Draws `chart` into the element `id`; the instance is disposed when the owning component is.
/// With `on_select`, a click on a bar, slice or point calls it with that item's `name`.
pub fn draw(id: &str, chart: &Chart, on_select: Option<leptos::prelude::Callback<String>>) {
    use leptos::prelude::Callable;
    match WasmRenderer::new_opt(None, None).render(id, chart) {
        Ok(echarts) => {
            let instance: EchartsInstance = JsValue::from(echarts).unchecked_into();
            let handler = on_select.map(|callback| {
                let closure = Closure::<dyn FnMut(JsValue)>::new(move |params: JsValue| {
                    let name = js_sys::Reflect::get(&params, &JsValue::from_str("name")).ok().and_then(|n| n.as_string());
                    if let Some(name) = name.filter(|n| !n.is_empty()) {
                        callback.run(name);
                    }
                });
                instance.on("click", closure.as_ref().unchecked_ref());
                closure
            });
            // The closure must live as long as the chart that calls it.
            let handle = SendWrapper::new((instance, handler));
            on_cleanup(move || handle.0.dispose());
        }
        Err(err) => leptos::logging::warn!("chart {id} not drawn: {err:?}"),
    }
}
