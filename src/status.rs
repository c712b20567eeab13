//! `breakglass status`: one snapshot of what the console would show, as text or JSON.
