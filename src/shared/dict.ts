// Objects keyed by what users choose (reaction keys, channel names, user ids) have no prototype:
// a key like `__proto__` or `constructor` is then just a key, never the object's machinery.
export const dict = <V>(): Record<string, V> => Object.create(null) as Record<string, V>;
