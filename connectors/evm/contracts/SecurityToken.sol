// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {AgentRole} from "./AgentRole.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {IdentityRegistry} from "./IdentityRegistry.sol";
import {ITransferRules} from "./ITransferRules.sol";

/// @title SecurityToken: an ERC-20 that follows ERC-3643's transfer rules.
/// @notice A transfer needs the token unpaused, neither wallet frozen and the recipient verified
/// in the identity registry. Agents (the issuer's transfer agents) pause, freeze, mint, burn
/// and force transfers. `canTransfer` answers the rules without moving anything, so an escrow
/// that keeps its own ledger (Settlement) applies exactly the rules a transfer would.
/// Partial freezes and pluggable compliance modules of ERC-3643 are not implemented.
contract SecurityToken is ERC20, AgentRole, Pausable, ITransferRules {
    bytes32 public constant PAUSED = "PAUSED";
    bytes32 public constant FROM_FROZEN = "FROM_FROZEN";
    bytes32 public constant TO_FROZEN = "TO_FROZEN";
    bytes32 public constant TO_NOT_VERIFIED = "TO_NOT_VERIFIED";

    IdentityRegistry private _registry;
    uint8 private immutable _decimals;
    mapping(address wallet => bool) private _frozen;

    event IdentityRegistryAdded(address indexed identityRegistry);
    /// Named and shaped as in ERC-3643.
    event AddressFrozen(address indexed wallet, bool indexed isFrozen, address indexed owner);

    /// A transfer, mint or forced transfer the rules refuse; `reason` is one of the constants.
    error TransferNotAllowed(address from, address to, bytes32 reason);
    /// canTransferPacked: the wallets are not a table, or the transfers not whole 20-byte
    /// entries naming wallets in it.
    error BadTransfers();

    /// canTransferPacked's transfer: [to 2][from 2][amount 16].
    uint256 private constant TRANSFER_BYTES = 20;
    /// canTransferPacked's flags per wallet: whether it is frozen and verified, and whether
    /// each has been read yet.
    uint256 private constant FROZEN_READ = 1;
    uint256 private constant FROZEN = 2;
    uint256 private constant VERIFIED_READ = 4;
    uint256 private constant VERIFIED = 8;

    constructor(
        string memory name_,
        string memory symbol_,
        uint8 decimals_,
        IdentityRegistry registry_,
        address initialOwner
    ) ERC20(name_, symbol_) Ownable(initialOwner) {
        if (address(registry_) == address(0)) revert ZeroAddress();
        _decimals = decimals_;
        _registry = registry_;
        emit IdentityRegistryAdded(address(registry_));
    }

    function decimals() public view override returns (uint8) {
        return _decimals;
    }

    function identityRegistry() external view returns (IdentityRegistry) {
        return _registry;
    }

    function setIdentityRegistry(IdentityRegistry registry_) external onlyOwner {
        if (address(registry_) == address(0)) revert ZeroAddress();
        _registry = registry_;
        emit IdentityRegistryAdded(address(registry_));
    }

    function isFrozen(address wallet) external view returns (bool) {
        return _frozen[wallet];
    }

    /// @notice Whether ERC-3643's rules let `from` send to `to`, and if not, why (one of the
    /// constants). Balances are not checked here: the ERC-20 transfer checks the wallet's, an
    /// escrow checks its own ledger. `amount` is kept for the ERC-3643 compliance signature.
    function canTransfer(
        address from,
        address to,
        uint256 /* amount */
    ) external view returns (bool ok, bytes32 reason) {
        reason = _rules(from, to);
        ok = reason == 0;
    }

    /// @notice canTransfer for a batch of transfers among a table of wallets, as an escrow
    /// settling a batch asks: the same rules, answered for each transfer as if its `from` sent
    /// its `amount` to its `to`. Packed, big-endian, no padding: `wallets` is [count 2] then
    /// `count` addresses [wallet 20]; `transfers` is a run of [to 2][from 2][amount 16], `to`
    /// and `from` indexes into `wallets` (an escrow's packed trades hold these 20 bytes as they
    /// are). Returns only the transfers refused, in order, each with its reason: none when all
    /// are allowed, so the common answer is 64 bytes whatever the batch. Reverts
    /// `BadTransfers` on data that is not such a table and run.
    /// @dev Gas: the rules are the pause and per wallet (frozen, verified), so each wallet's
    /// answers are read once, when a transfer first needs them, and kept in a byte per wallet;
    /// a transfer then costs two memory reads. The registry is asked `isVerified` of each
    /// recipient once, through the scratch words (no allocation), and only of recipients.
    function canTransferPacked(bytes calldata wallets, bytes calldata transfers)
        external
        view
        returns (Refusal[] memory)
    {
        uint256 count = wallets.length < 2 ? 0 : uint16(bytes2(wallets[0:2]));
        if (wallets.length != 2 + 20 * count || transfers.length % TRANSFER_BYTES != 0) revert BadTransfers();
        bool stopped = paused();
        address registry = stopped ? address(0) : address(_registry);
        bytes32[4] memory reasons = [PAUSED, FROM_FROZEN, TO_FROZEN, TO_NOT_VERIFIED];
        bytes4 verifiedSelector = IdentityRegistry.isVerified.selector;
        bytes4 bad = BadTransfers.selector;
        assembly ("memory-safe") {
            // Wallet i's flags byte `f` with its frozen state read (if it was not): _frozen is
            // read once per wallet.
            function readFrozen(flags, table, i, f) -> g {
                g := f
                if iszero(and(g, FROZEN_READ)) {
                    mstore(0x00, shr(96, calldataload(add(table, mul(i, 20)))))
                    mstore(0x20, _frozen.slot)
                    g := or(g, FROZEN_READ)
                    if sload(keccak256(0x00, 0x40)) { g := or(g, FROZEN) }
                    mstore8(add(flags, i), g)
                }
            }
            // Recipient i's flags byte `f` with its frozen state and its verification (asked of
            // the registry) read, once per wallet.
            function readRecipient(flags, table, i, f, reg, sel) -> g {
                g := readFrozen(flags, table, i, f)
                mstore(0x00, sel)
                mstore(0x04, shr(96, calldataload(add(table, mul(i, 20)))))
                if iszero(staticcall(gas(), reg, 0x00, 0x24, 0x00, 0x20)) {
                    returndatacopy(0x00, 0x00, returndatasize())
                    revert(0x00, returndatasize())
                }
                if lt(returndatasize(), 0x20) { revert(0x00, 0x00) }
                g := or(g, VERIFIED_READ)
                if mload(0x00) { g := or(g, VERIFIED) }
                mstore8(add(flags, i), g)
            }
            let table := add(wallets.offset, 2) // wallet i at table + 20 i
            // A flags byte per wallet, zeroed (calldata past its end reads as zeros); then the
            // answer, [0x20][m] then m pairs [transfer][reason], as Refusal[] encodes. Nothing is
            // allocated after it, so memory grows only as far as the answer does.
            let flags := mload(0x40)
            calldatacopy(flags, calldatasize(), count)
            let out := add(flags, count)
            let m := 0
            let end := add(transfers.offset, transfers.length)
            for { let t := transfers.offset } lt(t, end) { t := add(t, TRANSFER_BYTES) } {
                let w := calldataload(t)
                let to := shr(240, w)
                let from := and(shr(224, w), 0xffff)
                if iszero(and(lt(to, count), lt(from, count))) {
                    mstore(0x00, bad)
                    revert(0x00, 0x04)
                }
                let k := div(sub(t, transfers.offset), TRANSFER_BYTES)
                if stopped {
                    // Paused: every transfer refused, the wallets not looked at.
                    mstore(add(out, add(0x40, shl(6, m))), k)
                    mstore(add(out, add(0x60, shl(6, m))), mload(reasons))
                    m := add(m, 1)
                    continue
                }
                // The sender's flags and the recipient's, read the first time a wallet needs
                // them (a recipient's both, which VERIFIED_READ says).
                let fromFlags := byte(0, mload(add(flags, from)))
                if iszero(and(fromFlags, FROZEN_READ)) { fromFlags := readFrozen(flags, table, from, fromFlags) }
                let toFlags := byte(0, mload(add(flags, to)))
                if iszero(and(toFlags, VERIFIED_READ)) {
                    toFlags := readRecipient(flags, table, to, toFlags, registry, verifiedSelector)
                }
                // Refused: which of `reasons`, in canTransfer's order: the sender frozen, the
                // recipient frozen, the recipient not verified.
                if or(and(or(fromFlags, toFlags), FROZEN), iszero(and(toFlags, VERIFIED))) {
                    let why := 3
                    if and(toFlags, FROZEN) { why := 2 }
                    if and(fromFlags, FROZEN) { why := 1 }
                    mstore(add(out, add(0x40, shl(6, m))), k)
                    mstore(add(out, add(0x60, shl(6, m))), mload(add(reasons, shl(5, why))))
                    m := add(m, 1)
                }
            }
            mstore(out, 0x20)
            mstore(add(out, 0x20), m)
            return(out, add(0x40, shl(6, m)))
        }
    }

    function pause() external onlyAgent {
        _pause();
    }

    function unpause() external onlyAgent {
        _unpause();
    }

    function setAddressFrozen(address wallet, bool freeze) external onlyAgent {
        _frozen[wallet] = freeze;
        emit AddressFrozen(wallet, freeze, msg.sender);
    }

    /// @notice Issues to a verified wallet (allowed while paused, as in ERC-3643).
    function mint(address to, uint256 amount) external onlyAgent {
        if (!_registry.isVerified(to)) revert TransferNotAllowed(address(0), to, TO_NOT_VERIFIED);
        _mint(to, amount);
    }

    function burn(address from, uint256 amount) external onlyAgent {
        _burn(from, amount);
    }

    /// @notice Recovery by an agent: ignores pause and freezes, still needs a verified recipient.
    function forcedTransfer(address from, address to, uint256 amount) external onlyAgent returns (bool) {
        if (!_registry.isVerified(to)) revert TransferNotAllowed(from, to, TO_NOT_VERIFIED);
        ERC20._update(from, to, amount);
        return true;
    }

    function _rules(address from, address to) private view returns (bytes32) {
        if (paused()) return PAUSED;
        return _walletRules(from, to, _registry.isVerified(to));
    }

    /// The rules on the wallets, given whether `to` is verified.
    function _walletRules(address from, address to, bool verified) private view returns (bytes32) {
        bool fromFrozen;
        bool toFrozen;
        assembly ("memory-safe") {
            mstore(0x20, _frozen.slot)
            mstore(0x00, from)
            fromFrozen := sload(keccak256(0x00, 0x40))
            mstore(0x00, to)
            toFrozen := sload(keccak256(0x00, 0x40))
        }
        if (fromFrozen) return FROM_FROZEN;
        if (toFrozen) return TO_FROZEN;
        if (!verified) return TO_NOT_VERIFIED;
        return 0;
    }

    /// Ordinary transfers obey the rules; mint, burn and forced transfers check their own.
    function _update(address from, address to, uint256 value) internal override {
        if (from != address(0) && to != address(0)) {
            bytes32 reason = _rules(from, to);
            if (reason != 0) revert TransferNotAllowed(from, to, reason);
        }
        super._update(from, to, value);
    }
}
