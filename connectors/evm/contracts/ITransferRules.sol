// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// The ERC-3643 rule check Settlement asks of a security token (SecurityToken implements it).
interface ITransferRules {
    /// A transfer canTransferPacked refuses: its index in the run of transfers, and why.
    struct Refusal {
        uint256 transfer;
        bytes32 reason;
    }

    /// Whether the token's rules let `from` send `amount` to `to`, and if not, why.
    function canTransfer(address from, address to, uint256 amount)
        external
        view
        returns (bool ok, bytes32 reason);

    /// canTransfer for a batch of transfers among a table of wallets, packed: `wallets` is
    /// [count 2][wallet 20]..., `transfers` [to 2][from 2][amount 16]... by index into it. The
    /// answer: the transfers refused, in order, each with its reason; none when all are allowed.
    function canTransferPacked(bytes calldata wallets, bytes calldata transfers)
        external
        view
        returns (Refusal[] memory refusals);
}
