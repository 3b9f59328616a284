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
}

/// Draws `chart` into the element `id`; the instance is disposed when the owning component is.
pub fn draw(id: &str, chart: &Chart) {
    match WasmRenderer::new_opt(None, None).render(id, chart) {
        Ok(echarts) => {
            let instance: EchartsInstance = JsValue::from(echarts).unchecked_into();
            let handle = SendWrapper::new(instance);
            on_cleanup(move || handle.dispose());
        }
        Err(err) => leptos::logging::warn!("chart {id} not drawn: {err:?}"),
    }
}
