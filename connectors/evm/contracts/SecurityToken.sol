// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {AgentRole} from "./AgentRole.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {IdentityRegistry} from "./IdentityRegistry.sol";

/// @title SecurityToken: an ERC-20 that follows ERC-3643's transfer rules.
/// @notice A transfer needs the token unpaused, neither wallet frozen and the recipient verified
/// in the identity registry. Agents (the issuer's transfer agents) pause, freeze, mint, burn
/// and force transfers. `canTransfer` answers the rules without moving anything, so an escrow
/// that keeps its own ledger (Settlement) applies exactly the rules a transfer would.
/// Partial freezes and pluggable compliance modules of ERC-3643 are not implemented.
contract SecurityToken is ERC20, AgentRole, Pausable {
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
    /// canTransferBatch: the three arrays must be as long as each other.
    error LengthMismatch(uint256 from, uint256 to, uint256 amounts);

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

    /// @notice canTransfer for many transfers at once, as an escrow settling a batch asks: the
    /// reason each one is refused, 0 for each allowed. The same rules, read in bulk: the pause
    /// once, and the recipients' verification in one call to the registry.
    function canTransferBatch(
        address[] calldata from,
        address[] calldata to,
        uint256[] calldata amounts
    ) external view returns (bytes32[] memory reasons) {
        uint256 n = from.length;
        if (to.length != n || amounts.length != n) revert LengthMismatch(n, to.length, amounts.length);
        reasons = new bytes32[](n);
        if (paused()) {
            for (uint256 i = 0; i < n; ++i) reasons[i] = PAUSED;
            return reasons;
        }
        bool[] memory verified = _registry.isVerifiedBatch(to);
        for (uint256 i = 0; i < n;) {
            address f;
            address t;
            bool v;
            assembly ("memory-safe") {
                let mask := 0xffffffffffffffffffffffffffffffffffffffff
                f := and(calldataload(add(from.offset, shl(5, i))), mask)
                t := and(calldataload(add(to.offset, shl(5, i))), mask)
                v := mload(add(verified, shl(5, add(i, 1))))
            }
            bytes32 reason = _walletRules(f, t, v);
            assembly ("memory-safe") {
                mstore(add(reasons, shl(5, add(i, 1))), reason)
            }
            unchecked {
                ++i;
            }
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
