//! The dependency catalogue is the one place a default image and version is written: for every
//! type berth can run in the cluster, the rendered server pods run exactly the catalogue's
//! `image:version` (PostgreSQL: CloudNativePG's image of the catalogue's major, which adds
//! barman-cloud), Strimzi is asked for the catalogue's Kafka version, and the renderer's own
//! constants (`kafka::VERSION`, `redis::Flavor::image`) read the same entry.

use berth_render::{Object, render};
use berth_spec::DependencyKind;
use berth_spec::dependency::catalogue;
use serde_json::Value;
use std::path::Path;

fn objects(dependency: &str) -> Vec<Object> {
    let spec = format!(
        "app: shop\nversion: 1.0.0\nservices:\n  api:\n    image: api\n    port: 8080\n    uses: [dep]\ndependencies:\n  dep: {dependency}\nenvironments:\n  dev: {{ namespace: shop-dev }}\n"
    );
    let loaded = berth_spec::load_str(Path::new("berth.yaml"), &spec, &|_| Ok(Vec::new()))
        .unwrap_or_else(|e| {
            panic!(
                "{dependency}: {:#?}",
                e.errors.iter().map(|e| e.one_line()).collect::<Vec<_>>()
            )
        });
    render(&loaded.apps[0]).objects
}

/// The images of the dependency's own StatefulSet pods (main containers and init containers).
fn server_images(objects: &[Object]) -> Vec<String> {
    let sts = objects
        .iter()
        .find(|o| o.kind == "StatefulSet" && o.name == "dep")
        .unwrap_or_else(|| panic!("no StatefulSet dep"));
    let spec = &sts.body["spec"]["template"]["spec"];
    ["containers", "initContainers"]
        .iter()
        .flat_map(|k| spec[*k].as_array().cloned().unwrap_or_default())
        .filter_map(|c: Value| Some(c["image"].as_str()?.to_owned()))
        .collect()
}

#[test]
fn every_in_cluster_type_renders_the_catalogue_image_and_version() {
    let mut checked = 0;
    for kind in DependencyKind::ALL {
        let e = catalogue::entry(*kind);
        if !e.in_cluster {
            continue;
        }
        let (dependency, expected) = match kind {
            // berth starts PostgreSQL itself and archives WAL with barman-cloud, so the image is
            // CloudNativePG's of the catalogue's major, not `postgres:N`.
            DependencyKind::Postgres => (
                "{ type: postgres, ha: false, backup: null, pooler: null }".to_owned(),
                berth_render::data::postgres::cnpg_image(e.version),
            ),
            _ => (
                format!("{{ type: {} }}", kind.as_str()),
                format!("{}:{}", e.image, e.version),
            ),
        };
        let images = server_images(&objects(&dependency));
        assert!(
            images.contains(&expected),
            "{kind:?}: the server pod runs {images:?}, the catalogue says {expected}"
        );
        checked += 1;
    }
    assert!(checked >= 10, "only {checked} in-cluster types");
}

#[test]
fn strimzi_and_the_renderer_constants_follow_the_catalogue() {
    let k = catalogue::entry(DependencyKind::Kafka);
    assert_eq!(berth_render::kafka::IMAGE, k.image);
    assert_eq!(berth_render::kafka::VERSION, k.version);
    let o = objects("{ type: kafka, operator: strimzi }");
    let kafka = o
        .iter()
        .find(|o| o.kind == "Kafka")
        .expect("a Strimzi Kafka");
    assert_eq!(kafka.body["spec"]["kafka"]["version"], k.version);
    for (flavor, kind) in [
        (berth_render::redis::Flavor::Redis, DependencyKind::Redis),
        (berth_render::redis::Flavor::Valkey, DependencyKind::Valkey),
    ] {
        let e = catalogue::entry(kind);
        assert_eq!(flavor.image(None), format!("{}:{}", e.image, e.version));
    }
    // Patroni's Spilo image is built per PostgreSQL major: it must be the catalogue's.
    let pg = catalogue::entry(DependencyKind::Postgres);
    assert!(
        berth_render::data::postgres::PATRONI_IMAGE.contains(&format!("spilo-{}:", pg.version)),
        "{} is not Spilo for PostgreSQL {}",
        berth_render::data::postgres::PATRONI_IMAGE,
        pg.version
    );
}
