export class SlackChallengeResponse {
  /**
   * The `challenge` of Slack's `url_verification` request, as Slack expects it back.
   * @example "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"
   */
  challenge: string;
}
