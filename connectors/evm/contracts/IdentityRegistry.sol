// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {AgentRole} from "./AgentRole.sol";

/// @title IdentityRegistry: the wallets eligible to hold a security token.
/// @notice ERC-3643's identity registry reduced to what settlement needs: an agent (the issuer's
/// transfer agent or KYC provider) registers or removes a wallet, and tokens ask `isVerified`
/// before a wallet may receive. One registry can serve many tokens. ONCHAINID claims are out of
/// scope: registration itself is the attestation. The events are what the settlement daemon
/// watches to keep the exchange's eligibility in step.
contract IdentityRegistry is AgentRole {
    /// One storage slot per wallet.
    struct Investor {
        bool verified;
        /// ISO 3166-1 numeric country code, kept for compliance rules that depend on it.
        uint16 country;
    }

    mapping(address wallet => Investor) private _investors;

    event InvestorRegistered(address indexed wallet, uint16 country);
    event InvestorRemoved(address indexed wallet);

    error AlreadyRegistered(address wallet);
    error NotRegistered(address wallet);

    constructor(address initialOwner) Ownable(initialOwner) {}

    function registerInvestor(address wallet, uint16 country) external onlyAgent {
        _register(wallet, country);
    }

    /// @notice Registers many wallets with one country; reverts (registering none) if any is
    /// already registered.
    function registerInvestors(address[] calldata wallets, uint16 country) external onlyAgent {
        for (uint256 i = 0; i < wallets.length; ++i) {
            _register(wallets[i], country);
        }
    }

    function removeInvestor(address wallet) external onlyAgent {
        if (!_investors[wallet].verified) revert NotRegistered(wallet);
        delete _investors[wallet];
        emit InvestorRemoved(wallet);
    }

    function isVerified(address wallet) external view returns (bool) {
        return _investors[wallet].verified;
    }

    function investorCountry(address wallet) external view returns (uint16) {
        return _investors[wallet].country;
    }

    function _register(address wallet, uint16 country) private {
        if (wallet == address(0)) revert ZeroAddress();
        if (_investors[wallet].verified) revert AlreadyRegistered(wallet);
        _investors[wallet] = Investor({verified: true, country: country});
        emit InvestorRegistered(wallet, country);
    }
}
