//! Images as values, after go-containerregistry: a platform, a config and layers. A mutation
//! returns a new image; the config blob and the manifest are derived from the value, always as
//! canonical JSON (keys sorted, no white space), so the same image has the same digests.

use std::collections::HashMap;

use oci_spec::image::{
    Arch, Config, Descriptor, Digest, HistoryBuilder, ImageConfiguration, ImageIndex,
    ImageIndexBuilder, ImageManifest, ImageManifestBuilder, MediaType, Os, RootFsBuilder,
};
use serde::Serialize;
use serde_json::{Map, Value as Json};

use super::Error;
use super::digest::digest_bytes;
use super::layer::Layer;
use crate::platform::Platform;

/// Configs and manifests larger than this are refused (registries cap manifests at 4 MiB).
pub const MAX_JSON_BYTES: u64 = 8 << 20;

/// `epoch_seconds` as an RFC 3339 time in UTC (`1970-01-01T00:00:00Z`), as image configs and
/// history entries give `created`.
#[must_use]
pub fn rfc3339(epoch_seconds: u64) -> String {
    let days = epoch_seconds / 86_400;
    let seconds = epoch_seconds % 86_400;
    // Howard Hinnant's days-to-civil, for days since 1970-01-01 (never negative here).
    let z = days + 719_468;
    let era = z / 146_097;
    let day_of_era = z % 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        seconds / 3600,
        seconds / 60 % 60,
        seconds % 60
    )
}

/// Whether an image config (or an index's platform) with `os`, `arch` and `variant` is for
/// `platform`: the same OS and architecture, and the same variant when both name one.
#[must_use]
pub(crate) fn platform_matches(
    platform: &Platform,
    os: &str,
    arch: &str,
    variant: Option<&str>,
) -> bool {
    platform.os() == os
        && platform.arch() == arch
        && match (platform.variant(), variant) {
            (Some(wanted), Some(found)) => wanted == found,
            _ => true,
        }
}

/// A descriptor's platform as text (`linux/arm64/v8`), when it says one.
pub(crate) fn descriptor_platform(descriptor: &Descriptor) -> Option<String> {
    descriptor.platform().as_ref().map(|p| {
        let mut text = format!("{}/{}", p.os(), p.architecture());
        if let Some(variant) = p.variant() {
            text.push('/');
            text.push_str(variant);
        }
        text
    })
}

/// Whether an index entry is for `platform` (one that says none is not).
pub(crate) fn descriptor_matches(platform: &Platform, descriptor: &Descriptor) -> bool {
    descriptor.platform().as_ref().is_some_and(|p| {
        platform_matches(
            platform,
            &p.os().to_string(),
            &p.architecture().to_string(),
            p.variant().as_deref(),
        )
    })
}

/// An image config's platform, as text (`linux/arm64/v8`).
pub(crate) fn config_platform(config: &ImageConfiguration) -> String {
    let mut text = format!("{}/{}", config.os(), config.architecture());
    if let Some(variant) = config.variant() {
        text.push('/');
        text.push_str(variant);
    }
    text
}

/// An image for one platform.
#[derive(Debug, Clone, PartialEq)]
pub struct Image {
    pub platform: Platform,
    pub config: ImageConfiguration,
    pub layers: Vec<Layer>,
}

/// `value` as canonical JSON: object keys sorted, compact.
#[must_use]
pub fn canonical_json(value: &impl Serialize) -> Vec<u8> {
    fn sort(value: Json) -> Json {
        match value {
            Json::Object(map) => {
                let mut entries: Vec<(String, Json)> = map.into_iter().collect();
                entries.sort_by(|a, b| a.0.cmp(&b.0));
                Json::Object(
                    entries
                        .into_iter()
                        .map(|(k, v)| (k, sort(v)))
                        .collect::<Map<_, _>>(),
                )
            }
            Json::Array(items) => Json::Array(items.into_iter().map(sort).collect()),
            other => other,
        }
    }
    let value = serde_json::to_value(value).unwrap_or(Json::Null);
    serde_json::to_vec(&sort(value)).unwrap_or_default()
}

fn arch_of(platform: &Platform) -> Arch {
    Arch::from(platform.arch())
}

fn os_of(platform: &Platform) -> Os {
    Os::from(platform.os())
}

impl Image {
    /// An image with no layers and an empty runtime config.
    #[must_use]
    pub fn scratch(platform: &Platform) -> Image {
        let mut config = ImageConfiguration::default();
        config.set_architecture(arch_of(platform));
        config.set_os(os_of(platform));
        config.set_variant(platform.variant().map(str::to_owned));
        config.set_rootfs(RootFsBuilder::default().build().unwrap_or_default());
        config.set_config(Some(Config::default()));
        Image {
            platform: platform.clone(),
            config,
            layers: Vec::new(),
        }
    }

    /// An image from a base's config blob and its layers (in order), checked against each
    /// other: the config must list one `diff_id` per layer.
    pub fn from_config(
        platform: &Platform,
        config_json: &[u8],
        layers: Vec<Layer>,
    ) -> Result<Image, Error> {
        let config: ImageConfiguration =
            serde_json::from_slice(config_json).map_err(|e| Error::Invalid {
                what: "image config".into(),
                reason: e.to_string(),
            })?;
        let diff_ids = config.rootfs().diff_ids();
        if diff_ids.len() != layers.len() {
            return Err(Error::Invalid {
                what: "image config".into(),
                reason: format!(
                    "it lists {} layers (rootfs.diff_ids) and the manifest {}",
                    diff_ids.len(),
                    layers.len()
                ),
            });
        }
        for (listed, layer) in diff_ids.iter().zip(&layers) {
            if *listed != layer.diff_id.to_string() {
                return Err(Error::Invalid {
                    what: "image config".into(),
                    reason: format!(
                        "the diff_id {listed} does not match its layer ({})",
                        layer.diff_id
                    ),
                });
            }
        }
        Ok(Image {
            platform: platform.clone(),
            config,
            layers,
        })
    }

    /// The image with `layer` on top, and a history entry for it made at `created` (RFC 3339).
    #[must_use]
    pub fn with_layer(mut self, layer: Layer, created: &str) -> Image {
        self.config
            .rootfs_mut()
            .diff_ids_mut()
            .push(layer.diff_id.to_string());
        let mut entry = HistoryBuilder::default()
            .created(created.to_owned())
            .created_by(layer.created_by.clone())
            .build()
            .unwrap_or_default();
        entry.set_comment(Some(format!("mlreef {} layer", layer.role)));
        self.config
            .history_mut()
            .get_or_insert_with(Vec::new)
            .push(entry);
        self.layers.push(layer);
        self
    }

    /// The image with its runtime config changed by `change`.
    #[must_use]
    pub fn with_config(mut self, change: impl FnOnce(&mut Config)) -> Image {
        let mut runtime = self.config.config().clone().unwrap_or_default();
        change(&mut runtime);
        self.config.set_config(Some(runtime));
        self
    }

    /// The image with its creation time set (RFC 3339).
    #[must_use]
    pub fn created_at(mut self, created: &str) -> Image {
        self.config.set_created(Some(created.to_owned()));
        self
    }

    /// The config blob.
    #[must_use]
    pub fn config_bytes(&self) -> Vec<u8> {
        canonical_json(&self.config)
    }

    /// The manifest and its bytes.
    #[must_use]
    pub fn manifest(&self) -> (ImageManifest, Vec<u8>) {
        let config = self.config_bytes();
        let config_descriptor = Descriptor::new(
            MediaType::ImageConfig,
            config.len() as u64,
            digest_bytes(&config),
        );
        let manifest = ImageManifestBuilder::default()
            .schema_version(2u32)
            .media_type(MediaType::ImageManifest)
            .config(config_descriptor)
            .layers(
                self.layers
                    .iter()
                    .map(Layer::descriptor)
                    .collect::<Vec<_>>(),
            )
            .build()
            .unwrap_or_else(|_| unreachable!("every required field is set"));
        let bytes = canonical_json(&manifest);
        (manifest, bytes)
    }

    /// The manifest's digest.
    #[must_use]
    pub fn digest(&self) -> Digest {
        digest_bytes(&self.manifest().1)
    }

    /// The descriptor an index lists for this image's manifest.
    #[must_use]
    pub fn descriptor(&self) -> Descriptor {
        let (_, bytes) = self.manifest();
        let mut descriptor = Descriptor::new(
            MediaType::ImageManifest,
            bytes.len() as u64,
            digest_bytes(&bytes),
        );
        let mut platform = oci_spec::image::Platform::default();
        platform.set_architecture(arch_of(&self.platform));
        platform.set_os(os_of(&self.platform));
        platform.set_variant(self.platform.variant().map(str::to_owned));
        descriptor.set_platform(Some(platform));
        descriptor
    }
}

/// An image index of `images` (one manifest per platform), and its bytes.
#[must_use]
pub fn index(images: &[Image]) -> (ImageIndex, Vec<u8>) {
    let index = ImageIndexBuilder::default()
        .schema_version(2u32)
        .media_type(MediaType::ImageIndex)
        .manifests(images.iter().map(Image::descriptor).collect::<Vec<_>>())
        .build()
        .unwrap_or_else(|_| unreachable!("every required field is set"));
    let bytes = canonical_json(&index);
    (index, bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oci::layer::{LayerRole, Location};

    fn layer(n: u8) -> Layer {
        Layer {
            media_type: MediaType::ImageLayerGzip,
            digest: digest_bytes(&[n]),
            size: 1,
            diff_id: digest_bytes(&[n, n]),
            role: LayerRole::Code,
            cached: false,
            created_by: format!("layer {n}"),
            location: Location::Store,
        }
    }

    #[test]
    fn times_in_rfc_3339() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(rfc3339(4_102_444_799), "2099-12-31T23:59:59Z");
    }

    #[test]
    fn images_are_values_with_stable_digests() {
        let platform = Platform::linux_amd64();
        let base = Image::scratch(&platform).created_at("1970-01-01T00:00:00Z");
        let one = base.clone().with_layer(layer(1), "1970-01-01T00:00:00Z");
        assert!(
            base.layers.is_empty(),
            "a mutation leaves the original as it was"
        );
        assert_eq!(one.layers.len(), 1);
        assert_eq!(one.config.rootfs().diff_ids().len(), 1);
        let again = base.clone().with_layer(layer(1), "1970-01-01T00:00:00Z");
        assert_eq!(one.digest(), again.digest());
        let labelled = one.clone().with_config(|c| {
            let mut labels = std::collections::HashMap::new();
            for k in ["b", "a", "c", "d", "e", "f"] {
                labels.insert(k.to_owned(), k.to_owned());
            }
            c.set_labels(Some(labels));
        });
        // Labels are a hash map; the bytes do not depend on its order.
        let text = String::from_utf8(labelled.config_bytes()).unwrap();
        assert!(text.contains(r#""Labels":{"a":"a","b":"b","c":"c","d":"d","e":"e","f":"f"}"#));
        assert_ne!(labelled.digest(), one.digest());
        let (_, bytes) = index(&[one.clone(), labelled]);
        let parsed: ImageIndex = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(parsed.manifests().len(), 2);
        let reread =
            Image::from_config(&platform, &one.config_bytes(), one.layers.clone()).unwrap();
        assert_eq!(reread.digest(), one.digest());
        assert!(Image::from_config(&platform, &one.config_bytes(), vec![]).is_err());
    }
}

/// An image's labels (its config's `Labels`), and the digest of what its reference names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageLabels {
    pub digest: Digest,
    pub labels: HashMap<String, String>,
}

/// The labels of an image config (none when it has no `config.Labels`).
pub(crate) fn config_labels(config: &[u8], what: &str) -> Result<HashMap<String, String>, Error> {
    let value: serde_json::Value = serde_json::from_slice(config).map_err(|e| Error::Invalid {
        what: what.to_owned(),
        reason: e.to_string(),
    })?;
    Ok(value
        .get("config")
        .and_then(|c| c.get("Labels"))
        .and_then(serde_json::Value::as_object)
        .map(|labels| {
            labels
                .iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                .collect()
        })
        .unwrap_or_default())
}
