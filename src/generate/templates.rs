//! The embedded Tera templates (`templates/`) and the filters they use.

use super::{Context, GenerateError};
use std::sync::OnceLock;

include!(concat!(env!("OUT_DIR"), "/templates.rs"));

fn engine() -> &'static tera::Tera {
    static ENGINE: OnceLock<tera::Tera> = OnceLock::new();
    ENGINE.get_or_init(|| {
        let mut tera = tera::Tera::new();
        tera.autoescape_on(Vec::<&str>::new());
        tera.register_filter(
            "json",
            |v: tera::Value, _: tera::Kwargs, _: &tera::State| {
                serde_json::to_string(&v).unwrap_or_default()
            },
        );
        tera.add_raw_templates(TEMPLATES.iter().copied())
            .unwrap_or_else(|e| panic!("embedded templates do not parse: {e:?}"));
        tera
    })
}

/// Whether a template exists, e.g. `ecosystems/node/Dockerfile`.
pub fn exists(name: &str) -> bool {
    TEMPLATES.iter().any(|(n, _)| *n == name)
}

/// Renders one template with the shared context plus `extra` values.
pub fn render(
    name: &str,
    context: &Context,
    extra: &[(&str, serde_json::Value)],
) -> Result<String, GenerateError> {
    let err = |message: String| GenerateError::Template {
        template: name.to_string(),
        message,
    };
    let mut ctx = tera::Context::from_serialize(context).map_err(|e| err(format!("{e:?}")))?;
    for (k, v) in extra {
        ctx.insert(k.to_string(), v);
    }
    engine()
        .render(name, &ctx)
        .map_err(|e| err(format!("{e:?}")))
}
