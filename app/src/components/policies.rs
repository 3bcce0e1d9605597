//! The conversion policies in words, one table for the New migration form's choices and for
//! the lists that say which policies a job runs with (dry run, job page).

use engine::policy::ConversionPolicy;
use leptos::prelude::*;

/// One policy: what it is about, and each choice as (its JSON name, what it does).
pub struct PolicyChoice {
    pub label: &'static str,
    pub options: &'static [(&'static str, &'static str)],
}

pub const UNSUPPORTED_VALUES: PolicyChoice = PolicyChoice {
    label: "Types with no JSON form (regex, timestamp, …)",
    options: &[("reject", "reject the document"), ("asString", "write as a string"), ("asTaggedObject", "write as a tagged object")],
};
pub const NON_FINITE_NUMBERS: PolicyChoice = PolicyChoice {
    label: "NaN and ±Infinity",
    options: &[
        ("reject", "reject the document"),
        ("asString", "write as a string"),
        ("asTaggedObject", "write as a tagged object"),
        ("asNull", "write null (loses the value)"),
    ],
};
pub const DOCUMENT_IDS: PolicyChoice = PolicyChoice {
    label: "Object or array _id",
    options: &[("reject", "reject the document"), ("canonicalString", "use its canonical string")],
};
pub const FIELD_NAMES: PolicyChoice =
    PolicyChoice { label: "Field names starting with $", options: &[("reject", "reject the document"), ("rename", "rename ($a → _$a)")] };

/// A policy value's JSON name (`"asString"` → `asString`).
fn name_of<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default().trim_matches('"').to_owned()
}

impl PolicyChoice {
    /// What the choice `value` does, in words.
    fn describe<T: serde::Serialize>(&self, value: &T) -> String {
        let name = name_of(value);
        self.options.iter().find(|(n, _)| *n == name).map_or(name, |(_, text)| (*text).to_owned())
    }
}

/// Each policy of `policy` as (what it is about, what it does).
pub fn policy_lines(policy: &ConversionPolicy) -> Vec<(&'static str, String)> {
    vec![
        (UNSUPPORTED_VALUES.label, UNSUPPORTED_VALUES.describe(&policy.unsupported_values)),
        (NON_FINITE_NUMBERS.label, NON_FINITE_NUMBERS.describe(&policy.non_finite_numbers)),
        (DOCUMENT_IDS.label, DOCUMENT_IDS.describe(&policy.document_ids)),
        (FIELD_NAMES.label, FIELD_NAMES.describe(&policy.field_names)),
        ("Legacy UUIDs (binary subtype 3)", format!("byte order {}", name_of(&policy.legacy_uuids))),
        ("Binary subtypes Astra can't keep", name_of(&policy.binary_subtypes)),
    ]
}

/// The policies as a definition list.
#[component]
pub fn PolicyList(policy: ConversionPolicy) -> impl IntoView {
    view! {
        <dl class="settings" data-testid="policies">
            {policy_lines(&policy).into_iter().map(|(what, how)| view! { <div><dt>{what}</dt><dd>{how}</dd></div> }).collect_view()}
        </dl>
    }
}

/// A select of one policy's choices.
#[component]
pub fn PolicySelect(choice: PolicyChoice, #[prop(into)] value: Signal<String>, set: impl Fn(&str) + 'static) -> impl IntoView {
    view! {
        <label>{choice.label}
            <select on:change=move |ev| set(&event_target_value(&ev)) prop:value=move || value.get()>
                {choice.options.iter().map(|(name, text)| view! { <option value=*name selected=move || value.get() == *name>{*text}</option> }).collect_view()}
            </select>
        </label>
    }
}

/// The JSON name of a policy value, for [`PolicySelect`]'s `value`.
pub fn selected<T: serde::Serialize>(value: &T) -> String {
    name_of(value)
}

/// A policy value from its JSON name.
pub fn parse<T: serde::de::DeserializeOwned>(value: &str) -> Option<T> {
    serde_json::from_str(&format!("\"{value}\"")).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies_read_as_the_form_offers_them() {
        let lines = policy_lines(&ConversionPolicy::default());
        assert_eq!(lines[0], (UNSUPPORTED_VALUES.label, "reject the document".to_owned()));
        let policy = ConversionPolicy { field_names: parse("rename").unwrap_or_default(), ..Default::default() };
        assert_eq!(policy_lines(&policy)[3].1, "rename ($a → _$a)");
    }
}
