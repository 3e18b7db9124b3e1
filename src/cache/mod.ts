/** Bounded caches with negative entries, and the directory's coherent cache namespaces. */
export { BoundedCache } from "./bounded_cache.ts";
export type { BoundedCacheOptions, BoundedCacheSettings, CacheLookup, CacheStats } from "./bounded_cache.ts";
export { DirectoryCaches } from "./directory_caches.ts";
export type { DirectoryCacheSettings, InvalidationSource, VerifiedCredential } from "./directory_caches.ts";
export { hexHash, SecondSight } from "./second_sight.ts";
