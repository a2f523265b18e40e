// The image record berth keeps (images/<name>.json) and the parts of the
// OCI image spec it reads (image-spec: manifest, index, config).

/** The runtime part of an OCI image config ("config" in the config blob). */
export interface ImageConfig {
  User?: string;
  ExposedPorts?: Record<string, object>;
  Env?: string[];
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  Volumes?: Record<string, object>;
  WorkingDir?: string;
  Labels?: Record<string, string>;
  StopSignal?: string;
}

export interface OciDescriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  platform?: { architecture: string; os: string; variant?: string };
}

export interface OciManifest {
  schemaVersion: number;
  mediaType?: string;
  config: OciDescriptor;
  layers: OciDescriptor[];
}

export interface OciIndex {
  schemaVersion: number;
  mediaType?: string;
  manifests: OciDescriptor[];
}

/** The config blob: the image config plus the layers' diff ids. */
export interface OciImage {
  architecture?: string;
  os?: string;
  created?: string;
  config?: ImageConfig;
  rootfs?: { type: string; diff_ids: string[] };
}

export interface LayerRecord {
  /** sha256 of the uncompressed tar: the store's key (layers/sha256/<hex>). */
  diffId: string;
  /** The blob's digest as the manifest names it (compressed), when it had one. */
  digest?: string;
  /** Bytes of the uncompressed tar. */
  size: number;
}

export interface ImageRecord {
  name: string;
  /** Where it came from: 'oci' layout, 'docker' save archive, or a plain 'rootfs' tarball. */
  format: 'oci' | 'docker' | 'rootfs';
  /** Digest of the manifest (for oci), or of the config. */
  id: string;
  created: string;
  /** Layers bottom first, as the manifest lists them. */
  layers: LayerRecord[];
  manifest?: OciManifest;
  architecture?: string;
  os?: string;
  config: ImageConfig;
}
