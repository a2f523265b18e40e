// Networking: named networks (bridge, subnet, NAT), container attachment
// modes, nftables port publishing, and socket activation.
export { Networks, type Network, type NetworkConfig } from './networks.js';
export { NetworkAttachment, type BridgeNetworkOption, type NetworkAddress, type NetworkInfo, type NetworkOption, type PublishOption } from './attach.js';
export { Activation, activate, closeSockets, listenFdsEnv, openSockets, withListenFds, type ActivateOptions, type Listener, type SocketOption } from './activation.js';
export { Inetd, inetd, type InetdOptions } from './inetd.js';
export { Netlink } from './netlink.js';
export type { Lease, PortMapping } from './ipam.js';
