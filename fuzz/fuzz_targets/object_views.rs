//! The view parsers from arbitrary JSON: OpenBaoCluster, OpenBaoRestore status, Job, Pod
//! (as the API server could send them, malformed included). Errors are fine; panics not.
#![no_main]

use breakglass::domain::restore_status::RestoreStatus;
use breakglass::domain::{ClusterView, JobView, PodView};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    if let Ok(c) = ClusterView::from_json(&v) {
        let _ = c.failed_job_from_message();
        let _ = c.active_nonce();
    }
    let _ = RestoreStatus::from_json(&v);
    if let Ok(job) = serde_json::from_value::<k8s_openapi::api::batch::v1::Job>(v.clone()) {
        let _ = JobView::from_job(&job);
    }
    if let Ok(pod) = serde_json::from_value::<k8s_openapi::api::core::v1::Pod>(v) {
        let _ = PodView::from_pod(&pod);
    }
});
