// Homeserver media (mxc://server/id) as URLs native clients can load: Parley serves them at
// `<public_url>/media/<server>/<id>`, fetching from the homeserver with the bot's credentials
// (Synapse requires authentication for media downloads).
export interface MediaUrls {
  /** The HTTP URL for an mxc URI, or undefined if it is not one. */
  toHttp(mxc: string): string | undefined;
  /** The mxc URI behind one of our media URLs (or an mxc URI itself); undefined for anything else. */
  toMxc(url: string): string | undefined;
}

const MXC = /^mxc:\/\/([A-Za-z0-9.:-]+)\/([A-Za-z0-9_-]+)$/;

/** `publicUrl` is read on each use: with port 0 it is only known once the gateway listens. */
export function createMediaUrls(publicUrl: string | (() => string)): MediaUrls {
  const baseOf = () =>
    `${(typeof publicUrl === "function" ? publicUrl() : publicUrl).replace(/\/+$/, "")}/media/`;
  return {
    toHttp(mxc) {
      const base = baseOf();
      const match = MXC.exec(mxc);
      return match ? `${base}${match[1]}/${match[2]}` : undefined;
    },
    toMxc(url) {
      const base = baseOf();
      if (MXC.test(url)) return url;
      if (!url.startsWith(base)) return undefined;
      const [server, id, ...rest] = url.slice(base.length).split("/");
      const mxc = `mxc://${server}/${id}`;
      return rest.length === 0 && MXC.test(mxc) ? mxc : undefined;
    },
  };
}
