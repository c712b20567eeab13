//! Fitting the shell: completion scripts (`breakglass completions SHELL`), the man page
//! (`breakglass man`), and running as a kubectl plugin (a binary or link named
//! `kubectl-breakglass` makes `kubectl breakglass …` work; help then says so).

use std::ffi::OsString;
use std::io::Write;
use std::path::Path;

use clap::CommandFactory;

use crate::cli::Cli;

/// The name kubectl looks for on PATH (`kubectl breakglass` runs it).
pub(crate) const PLUGIN_BINARY: &str = "kubectl-breakglass";

/// How help and completions name the program: `kubectl breakglass` when started through
/// the plugin name, else `breakglass`.
pub(crate) fn bin_name(argv0: Option<&OsString>) -> &'static str {
    let plugin = argv0
        .and_then(|a| Path::new(a).file_name())
        .is_some_and(|n| n == PLUGIN_BINARY);
    if plugin {
        "kubectl breakglass"
    } else {
        "breakglass"
    }
}

/// The clap command, named for how it was started.
pub fn command(argv0: Option<&OsString>) -> clap::Command {
    Cli::command().bin_name(bin_name(argv0))
}

/// The completion script for `shell`, for the program name `breakglass`.
pub(crate) fn completions(shell: clap_complete::Shell, out: &mut dyn Write) {
    let mut cmd = Cli::command();
    clap_complete::generate(shell, &mut cmd, "breakglass", out);
}

/// The man page (roff), section 1.
pub(crate) fn man(out: &mut dyn Write) -> std::io::Result<()> {
    clap_mangen::Man::new(Cli::command()).render(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plugin_name_is_recognised_by_its_file_name_only() {
        let p = |s: &str| OsString::from(s);
        assert_eq!(
            bin_name(Some(&p("/home/a/.krew/bin/kubectl-breakglass"))),
            "kubectl breakglass"
        );
        assert_eq!(
            bin_name(Some(&p("kubectl-breakglass"))),
            "kubectl breakglass"
        );
        assert_eq!(bin_name(Some(&p("/usr/bin/breakglass"))), "breakglass");
        assert_eq!(
            bin_name(Some(&p("/x/kubectl-breakglass/breakglass"))),
            "breakglass"
        );
        assert_eq!(bin_name(None), "breakglass");
        let help = command(Some(&p("kubectl-breakglass")))
            .render_usage()
            .to_string();
        assert!(help.contains("kubectl breakglass"), "{help}");
    }

    #[test]
    fn completions_and_man_cover_every_subcommand() {
        let mut bash = Vec::new();
        completions(clap_complete::Shell::Bash, &mut bash);
        let bash = String::from_utf8(bash).unwrap();
        let mut page = Vec::new();
        man(&mut page).unwrap();
        let page = String::from_utf8(page).unwrap();
        assert!(page.starts_with(".ie \\n(.g .ds Aq"), "{}", &page[..80]);
        for sub in Cli::command().get_subcommands() {
            let name = sub.get_name();
            assert!(bash.contains(name), "bash completion lacks {name}");
            assert!(page.contains(name), "man page lacks {name}");
        }
        assert!(bash.contains("--all-namespaces") && bash.contains("--kubeconfig"));
        for shell in [
            clap_complete::Shell::Zsh,
            clap_complete::Shell::Fish,
            clap_complete::Shell::Elvish,
            clap_complete::Shell::PowerShell,
        ] {
            let mut s = Vec::new();
            completions(shell, &mut s);
            assert!(String::from_utf8(s).unwrap().contains("status"), "{shell}");
        }
    }

    #[test]
    fn the_krew_manifest_template_is_a_plugin_for_this_binary_once_filled() {
        let template = include_str!("../assets/krew/breakglass.yaml");
        let filled = regex::Regex::new(r"\{\{[A-Z0-9_]+\}\}")
            .unwrap()
            .replace_all(template, "0");
        let v: serde_yaml::Value = serde_yaml::from_str(&filled).unwrap();
        assert_eq!(
            v["apiVersion"].as_str(),
            Some("krew.googlecontainertools.github.com/v1alpha2")
        );
        assert_eq!(v["kind"].as_str(), Some("Plugin"));
        // krew links `kubectl-<metadata.name>`: the name `bin_name` recognises.
        let name = v["metadata"]["name"].as_str().unwrap();
        assert_eq!(format!("kubectl-{name}"), PLUGIN_BINARY);
        let platforms = v["spec"]["platforms"].as_sequence().unwrap();
        assert!(!platforms.is_empty());
        for p in platforms {
            assert_eq!(p["bin"].as_str(), Some("breakglass"));
            assert!(p["uri"].is_string() && p["sha256"].is_string());
        }
    }
}
